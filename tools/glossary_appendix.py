"""Write book/appendix/glossary.md: the English-Chinese glossary of the book's technical terms.

``TERMS`` lists each term with its usual Chinese rendering and the chapter that
defines it. tests/test_book_pages.py checks that every term occurs in the text
of the chapter it points to (so a term cannot point to the wrong chapter, or
to one that stopped using it) and that the committed page is current:

    python tools/glossary_appendix.py
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "book" / "appendix" / "glossary.md"

# (English term as the chapter writes it, Chinese, chapter that defines it)
TERMS: list[tuple[str, str, int]] = [
    ("neuron", "神经元", 1), ("activation function", "激活函数", 1), ("logit", "对数几率（logit）", 1),
    ("softmax", "softmax 函数（归一化指数函数）", 1), ("sigmoid", "sigmoid 函数（S 型函数）", 1),
    ("ReLU", "修正线性单元", 1), ("dense layer", "全连接层", 1), ("bias", "偏置", 1),
    ("initialisation", "初始化", 1), ("pre-activation", "预激活值", 1), ("forward pass", "前向传播", 1),
    ("multilayer perceptron", "多层感知机", 1),
    ("loss", "损失函数", 2), ("likelihood", "似然", 2), ("negative log-likelihood", "负对数似然", 2),
    ("mean squared error", "均方误差", 2), ("cross-entropy", "交叉熵", 2), ("binary cross-entropy", "二元交叉熵", 2),
    ("log-sum-exp", "对数求和指数", 2), ("one-hot", "独热编码", 2), ("label smoothing", "标签平滑", 2),
    ("multi-label", "多标签", 2),
    ("backpropagation", "反向传播", 3), ("chain rule", "链式法则", 3), ("Jacobian", "雅可比矩阵", 3),
    ("gradient check", "梯度检验", 3), ("autograd", "自动微分", 3),
    ("gradient descent", "梯度下降", 4), ("stochastic gradient descent", "随机梯度下降", 4),
    ("learning rate", "学习率", 4), ("momentum", "动量", 4), ("Nesterov", "Nesterov 动量", 4),
    ("condition number", "条件数", 4), ("RMSProp", "RMSProp 算法", 4), ("Adam", "Adam 优化器", 4),
    ("bias correction", "偏差校正", 4),
    ("confusion matrix", "混淆矩阵", 5), ("accuracy", "准确率", 5), ("precision", "精确率（查准率）", 5),
    ("recall", "召回率（查全率）", 5), ("F1", "F1 分数", 5), ("ROC curve", "ROC 曲线", 5),
    ("AUC", "曲线下面积（AUC）", 5), ("calibration", "校准", 5), ("cross-validation", "交叉验证", 5),
    ("McNemar", "McNemar 检验", 5), ("Wilson interval", "Wilson 置信区间", 5), ("threshold", "阈值", 5),
    ("overfitting", "过拟合", 6), ("regularisation", "正则化", 6), ("weight decay", "权重衰减", 6),
    ("dropout", "丢弃法（dropout）", 6), ("batch normalisation", "批归一化", 6),
    ("layer normalisation", "层归一化", 6), ("early stopping", "早停", 6), ("warmup", "学习率预热", 6),
    ("tokenizer", "分词器", 7), ("token", "词元（token）", 7), ("vocabulary", "词表", 7),
    ("out of vocabulary", "未登录词（OOV）", 7), ("embedding", "嵌入", 7), ("padding", "填充", 7),
    ("mask", "掩码", 7), ("coverage", "覆盖率", 7),
    ("recurrent", "循环神经网络", 8), ("hidden state", "隐藏状态", 8), ("LSTM", "长短期记忆网络", 8),
    ("gate", "门控", 8), ("clipping", "梯度裁剪", 8), ("truncate", "截断", 8),
    ("attention", "注意力", 9), ("query", "查询", 9), ("key", "键", 9), ("value", "值", 9),
    ("attention weights", "注意力权重", 9), ("multi-head attention", "多头注意力", 9),
    ("self-attention", "自注意力", 9), ("cross-attention", "交叉注意力", 9), ("causal mask", "因果掩码", 9),
    ("Transformer", "Transformer 模型", 10), ("residual", "残差连接", 10), ("feed-forward", "前馈网络", 10),
    ("positional", "位置编码", 10), ("encoder", "编码器", 10), ("decoder", "解码器", 10),
    ("pre-LN", "前置层归一化（Pre-LN）", 10),
    ("pretraining", "预训练", 11), ("fine-tuning", "微调", 11), ("WordPiece", "WordPiece 子词切分", 11),
    ("mean pooling", "平均池化", 11), ("contrastive", "对比学习", 11), ("linear probe", "线性探测", 11),
    ("language model", "语言模型", 12), ("perplexity", "困惑度", 12), ("greedy", "贪心解码", 12),
    ("temperature", "温度", 12), ("top-k", "top-k 采样", 12), ("nucleus", "核采样（top-p）", 12),
    ("autoregressive", "自回归", 12), ("key/value cache", "键值缓存（KV 缓存）", 12),
    ("FLOPs", "浮点运算次数", 13), ("mixed precision", "混合精度", 13), ("bf16", "bfloat16 格式", 13),
    ("recomputation", "激活重计算", 13), ("MFU", "模型算力利用率（MFU）", 13), ("loss scaling", "损失缩放", 13),
    ("data parallel", "数据并行", 14), ("all-reduce", "全归约", 14), ("gradient accumulation", "梯度累积", 14),
    ("pipeline", "流水线并行", 14), ("bubble", "流水线气泡", 14), ("ZeRO", "ZeRO 零冗余优化器", 14),
    ("checkpoint", "检查点", 14), ("world size", "进程总数（world size）", 14), ("rank", "进程序号（rank）", 14),
    ("quantisation", "量化", 15), ("pruning", "剪枝", 15), ("distillation", "知识蒸馏", 15),
    ("zero point", "零点", 15), ("straight-through", "直通估计器", 15), ("ONNX", "ONNX 开放神经网络交换格式", 15),
    ("per-channel", "逐通道量化", 15),
    ("latency", "延迟", 16), ("throughput", "吞吐量", 16), ("Little's law", "利特尔法则", 16),
    ("dynamic batching", "动态批处理", 16), ("continuous batching", "连续批处理", 16),
    ("utilisation", "利用率", 16), ("graceful shutdown", "优雅关闭", 16), ("p99", "第 99 百分位延迟", 16),
    ("convolution", "卷积", 18), ("filter", "滤波器（卷积核）", 18), ("stride", "步幅", 18),
    ("pooling", "池化", 18), ("spectrogram", "频谱图", 18),
    ("cepstrum", "倒谱", 18), ("augmentation", "数据增强", 18), ("equivariance", "等变性", 18),
    ("sensitivity", "灵敏度", 19), ("specificity", "特异度", 19), ("prevalence", "患病率", 19),
    ("predictive value", "预测值（阳性/阴性预测值）", 19), ("censored", "删失", 19),
    ("survival curve", "生存曲线", 19), ("Kaplan", "Kaplan-Meier 估计", 19), ("hazard", "风险率（危险函数）", 19),
    ("partial likelihood", "偏似然", 19), ("risk set", "风险集", 19), ("concordance index", "一致性指数（C 指数）", 19),
    ("permutation importance", "置换重要性", 19), ("leak", "数据泄漏", 19),
    ("domain shift", "领域偏移", 17), ("transfer matrix", "迁移矩阵", 17), ("transfer gap", "迁移差距", 17),
    ("A-distance", "A 距离（领域可分性）", 17), ("label shift", "标签偏移（类别先验变化）", 17),
    ("naive Bayes", "朴素贝叶斯", 17), ("in-sample", "样本内（评估）", 17), ("provenance", "来源记录（溯源）", 17),
    ("walk-forward", "滚动前推验证", 20), ("look-ahead", "前视偏差", 20), ("purge", "清除（时间间隔）", 20),
    ("demographic parity", "人口统计均等", 20), ("equalised odds", "均等几率", 20),
    ("lift", "提升度", 20), ("cumulative gains", "累积增益", 20), ("uplift", "增量效应（uplift）", 20),
    ("propensity", "倾向得分", 20), ("backtest", "回测", 20),
]


def chapter_paths() -> dict[int, Path]:
    return {int(p.name[2:4]): p for p in sorted((ROOT / "book").glob("part*/ch*.ipynb"))}


def chapter_text(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def occurs(term: str, text: str) -> bool:
    """The term as a word (any case, plural or other ending allowed) in the text."""
    return re.search(rf"(?<![A-Za-z]){re.escape(term)}", text, re.IGNORECASE) is not None


def render() -> str:
    paths = chapter_paths()
    lines = [
        "# Appendix: English-Chinese glossary",
        "",
        "<!-- Written by tools/glossary_appendix.py; edit TERMS there, not this page. -->",
        "",
        "The technical terms of the book with their usual Chinese renderings, and the chapter that",
        "introduces each (a test checks that the term occurs there). Where Chinese texts commonly keep",
        "the English word, as for softmax or token, the rendering gives both.",
        "",
        "| term | 中文 | chapter |",
        "| --- | --- | --- |",
    ]
    for english, chinese, chapter in sorted(TERMS, key=lambda t: t[0].lower()):
        path = paths[chapter]
        lines.append(f"| {english} | {chinese} | {{doc}}`{chapter} <../{path.parent.name}/{path.stem}>` |")
    return "\n".join(lines + [""])


if __name__ == "__main__":
    PAGE.write_text(render(), encoding="utf-8")
    print(f"wrote {PAGE.relative_to(ROOT)}")

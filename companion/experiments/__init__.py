"""Full-scale runs of the book's experiments, with their provenance (book chapter 17).

A notebook must run in about a minute on a laptop, so it trains on a small profile;
readers also need to see what the same code reaches on the whole data. Each named
experiment here runs the full-scale version over several seeds, in minutes on a CPU:

    python -m companion experiments list
    python -m companion experiments run minilm-film            # 3 seeds, the whole training split
    python -m companion experiments run chinese-chars --quick  # seconds: the test suite's smoke run

and writes ``benchmarks/results/experiments/<name>.json`` and ``.md``: the settings,
every seed's scores, their mean and range, the target and the gap, and the provenance
(machine, date, command, seeds, time, git commit). The chapter shows the committed
table as a committed result, never as its own output.

- :mod:`companion.experiments.provenance`: where, when and how a run was made;
- :mod:`companion.experiments.sentiment_runs`: the chapter 17 runs themselves;
- :mod:`companion.experiments.registry`: the named experiments and their targets;
- :mod:`companion.experiments.results`: summaries over seeds, the JSON and Markdown files;
- :mod:`companion.experiments.cli`: the command line.
"""

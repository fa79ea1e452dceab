"""Survival analysis (book chapter 19): censored times, Kaplan-Meier, the Cox model, concordance.

- :mod:`~companion.survival.data` checks a pair (time, event) once for every function here;
- :mod:`~companion.survival.kaplan_meier`: the product-limit estimate and Greenwood's variance,
  Eqs. (19.4)-(19.5);
- :mod:`~companion.survival.cox`: the Cox partial likelihood with Breslow's and Efron's handling
  of tied times, its gradient and Hessian, and a Newton fit, Eqs. (19.6)-(19.8), in NumPy;
- :mod:`~companion.survival.cox_torch`: the same negative log partial likelihood as a PyTorch loss,
  and the neural Cox model trained with it;
- :mod:`~companion.survival.concordance`: Harrell's concordance index, Eq. (19.10).
"""

"""Expected indicator columns for the reference tests of rustrade-strategies.

Reads the shipped quotes (examples/data/Default.csv and Bitcoin.csv) and a synthetic series it
writes itself (`edge_quotes.csv`, see `edge_rows`), computes every indicator the crate offers with
the parameters below and writes `talib_<name>.csv` beside this script: one row
per input bar (same order), one column per output, an empty cell where the indicator has no value
yet (its warm-up). Floats are written with `repr`, which round-trips exactly.

Indicators that TA-Lib has are computed by TA-Lib itself (the `TA-Lib` wheel from PyPI, which
bundles the C library). The four that TA-Lib lacks are computed here from written-out formulas:

- Donchian: TA-Lib MAX of the highs and MIN of the lows over n bars; middle is their mean.
- Keltner: TA-Lib EMA(n) of the close, plus and minus k times TA-Lib ATR(m).
- SuperTrend: the band and trend rules of Stock Indicators' `GetSuperTrend` on TA-Lib ATR(n),
  loop below (it reproduces that package's published test values).
- VWAP: cumulative sum of typical price times volume over cumulative volume (numpy cumsum).

The version is pinned: older TA-Lib releases (0.4, for one) test degenerate windows against a
fixed 1e-8 band (flat-but-rounded windows, small prices) and differ from these columns there.

Run (from the repository root):

    python3 -m venv /tmp/talib-venv
    /tmp/talib-venv/bin/pip install TA-Lib==0.8.2 numpy
    /tmp/talib-venv/bin/python crates/rustrade-strategies/tests/data/gen_talib.py
"""

import csv
import math
import os
import random

import numpy as np
import talib

HERE = os.path.dirname(os.path.abspath(__file__))
QUOTES = os.path.join(HERE, "..", "..", "..", "..", "examples", "data")
INPUTS = ["Default", "Bitcoin", "Edge"]
EDGE = os.path.join(HERE, "edge_quotes.csv")


def edge_rows():
    """A synthetic series for TA-Lib's rules on degenerate windows, fixed by construction.

    Flat bars with no volume from the start (zero ranges, zero deviations, no VWAP), a seeded
    random walk with tiny volumes (MFI's total below 1), a long flat stretch after movement
    (smoothed sums decaying below TA-Lib's 1e-8 zero tolerance), gaps that put the previous
    close outside the bar, a saw-tooth for SAR reversals, and repeated equal highs and lows.
    """
    rng = random.Random(17)
    rows = []

    def bar(o, h, l, c, v):
        rows.append((round(o, 4), round(h, 4), round(l, 4), round(c, 4), round(v, 6)))

    for _ in range(40):
        bar(100.0, 100.0, 100.0, 100.0, 0.0)
    price = 100.0
    for _ in range(80):
        o = price
        price = round(price + rng.uniform(-1.0, 1.0), 2)
        bar(o, max(o, price) + rng.uniform(0, 0.5), min(o, price) - rng.uniform(0, 0.5), price,
            rng.uniform(0.0, 0.02))
    for _ in range(400):
        bar(price, price, price, price, 500.0)
    for i in range(60):
        gap = 5.0 if i % 7 == 3 else (-5.0 if i % 7 == 6 else 0.0)
        o = price + gap
        price = o + (1.5 if i % 4 < 2 else -1.5)
        bar(o, max(o, price) + 0.25, min(o, price) - 0.25, price, 1000.0 + 10 * i)
    for i in range(60):
        step = 2.0 if (i // 5) % 2 == 0 else -2.0
        o = price
        price = price + step
        bar(o, max(o, price), min(o, price), price, 2000.0)
    for i in range(40):
        bar(price, price + 1.0, price - 1.0, price + (0.5 if i % 2 else -0.5), 300.0)
    return rows


def write_edge():
    with open(EDGE, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["index", "date", "open", "high", "low", "close", "volume"])
        for i, r in enumerate(edge_rows()):
            w.writerow([i + 1, "bar-%d" % i] + [repr(float(x)) for x in r])


def load(name):
    cols = {"open": [], "high": [], "low": [], "close": [], "volume": []}
    path = EDGE if name == "Edge" else os.path.join(QUOTES, name + ".csv")
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            for key in cols:
                cols[key].append(float(row[key]))
    return {k: np.array(v, dtype=np.float64) for k, v in cols.items()}


def donchian(high, low, n):
    upper = talib.MAX(high, n)
    lower = talib.MIN(low, n)
    return upper, (upper + lower) / 2.0, lower


def keltner(high, low, close, n, k, m):
    middle = talib.EMA(close, n)
    atr = talib.ATR(high, low, close, m)
    return middle + k * atr, middle, middle - k * atr


def supertrend(high, low, close, n, mult):
    """Stock Indicators' rules: final bands ratchet; a close at or below the band of the
    current side turns (or keeps) the trend down, any other close turns (or keeps) it up.

    The first bar with an ATR is in an up trend when its close is at or above (high + low) / 2.
    Direction column: 1 up trend, -1 down trend.
    """
    atr = talib.ATR(high, low, close, n)
    size = len(close)
    line = np.full(size, np.nan)
    direction = np.full(size, np.nan)
    upper = lower = None
    up = False
    for i in range(size):
        if math.isnan(atr[i]):
            continue
        mid = (high[i] + low[i]) / 2.0
        basic_upper = mid + mult * atr[i]
        basic_lower = mid - mult * atr[i]
        if upper is None:
            upper, lower, up = basic_upper, basic_lower, close[i] >= mid
        else:
            prev_close = close[i - 1]
            if basic_upper < upper or prev_close > upper:
                upper = basic_upper
            if basic_lower > lower or prev_close < lower:
                lower = basic_lower
        up = not close[i] <= (lower if up else upper)
        line[i] = lower if up else upper
        direction[i] = 1.0 if up else -1.0
    return line, direction


def vwap(high, low, close, volume):
    """Cumulative from the first bar; no value while the cumulative volume is zero."""
    typical = (high + low + close) / 3.0
    cum_pv = np.cumsum(typical * volume)
    cum_v = np.cumsum(volume)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = cum_pv / cum_v
    out[cum_v == 0.0] = np.nan
    return out


def columns(q):
    o, h, l, c, v = q["open"], q["high"], q["low"], q["close"], q["volume"]
    cols = {}
    cols["sma_20"] = talib.SMA(c, 20)
    cols["ema_20"] = talib.EMA(c, 20)
    cols["wma_20"] = talib.WMA(c, 20)
    cols["dema_20"] = talib.DEMA(c, 20)
    cols["tema_20"] = talib.TEMA(c, 20)
    cols["rsi_14"] = talib.RSI(c, 14)
    line, signal, hist = talib.MACD(c, 12, 26, 9)
    cols["macd_12_26_9_line"] = line
    cols["macd_12_26_9_signal"] = signal
    cols["macd_12_26_9_hist"] = hist
    upper, middle, lower = talib.BBANDS(c, 20, 2.0, 2.0, 0)
    cols["bb_20_2_upper"] = upper
    cols["bb_20_2_middle"] = middle
    cols["bb_20_2_lower"] = lower
    cols["trange"] = talib.TRANGE(h, l, c)
    cols["atr_14"] = talib.ATR(h, l, c, 14)
    k, d = talib.STOCH(h, l, c, 14, 3, 0, 3, 0)
    cols["stoch_14_3_3_k"] = k
    cols["stoch_14_3_3_d"] = d
    cols["adx_14"] = talib.ADX(h, l, c, 14)
    cols["plus_di_14"] = talib.PLUS_DI(h, l, c, 14)
    cols["minus_di_14"] = talib.MINUS_DI(h, l, c, 14)
    cols["obv"] = talib.OBV(c, v)
    cols["roc_10"] = talib.ROC(c, 10)
    cols["stddev_20"] = talib.STDDEV(c, 20, 1.0)
    cols["cci_20"] = talib.CCI(h, l, c, 20)
    cols["mfi_14"] = talib.MFI(h, l, c, v, 14)
    cols["sar_0.02_0.2"] = talib.SAR(h, l, 0.02, 0.2)
    upper, middle, lower = keltner(h, l, c, 20, 2.0, 10)
    cols["keltner_20_2_10_upper"] = upper
    cols["keltner_20_2_10_middle"] = middle
    cols["keltner_20_2_10_lower"] = lower
    upper, middle, lower = donchian(h, l, 20)
    cols["donchian_20_upper"] = upper
    cols["donchian_20_middle"] = middle
    cols["donchian_20_lower"] = lower
    line, direction = supertrend(h, l, c, 10, 3.0)
    cols["supertrend_10_3_line"] = line
    cols["supertrend_10_3_dir"] = direction
    cols["vwap"] = vwap(h, l, c, v)
    return cols


def cell(x):
    return "" if math.isnan(x) else repr(float(x))


def main():
    write_edge()
    for name in INPUTS:
        cols = columns(load(name))
        names = list(cols)
        size = len(next(iter(cols.values())))
        out = os.path.join(HERE, "talib_" + name + ".csv")
        with open(out, "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["row"] + names)
            for i in range(size):
                w.writerow([i] + [cell(cols[n][i]) for n in names])
        print("wrote", out, "with TA-Lib", talib.__version__, talib.__ta_version__.decode())


if __name__ == "__main__":
    main()

"""Reference run of the reversing SMA crossover in backtesting.py, for the porting test.

The strategy is the one `docs/porting.md` ports: always in the market after the first cross of a
10-bar over a 30-bar simple moving average of closes (long after the fast average crosses above
the slow one, short after it crosses below), each new signal closing the open trade and opening
the other side (`exclusive_orders=True`), every entry sized with all the equity the account has
at that moment in whole shares including the entry's commission, 0.2 % commission on both legs,
filled at the close of the signal bar (`trade_on_close=True`), and the trade still open at the
end left open (`finalize_trades=False`), as rustrade's trade list does.

Writes `crates/rustrade-cli/tests/data/backtesting_py_sma_reversal.json`: the package version,
the settings, every closed trade (entry and exit bar index counted from 0 over the file's rows,
size, entry and exit price, PnL after both commissions, commission, return), the trade left
open, the final equity, the equity at each bar's close and backtesting.py's statistics. Floats are written with `repr`, which
round-trips exactly.

Run (from the repository root):

    python3 -m venv /tmp/btpy
    /tmp/btpy/bin/pip install backtesting==0.6.6
    /tmp/btpy/bin/python scripts/reference/backtesting_py_sma.py
"""

import json
import math
import os

import backtesting
import numpy as np
import pandas as pd
from backtesting import Backtest, Strategy
from backtesting.lib import crossover

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DATA = "examples/data/Default.csv"
OUT = "crates/rustrade-cli/tests/data/backtesting_py_sma_reversal.json"

FAST, SLOW = 10, 30
CASH = 10_000.0
COMMISSION = 0.002


def sma(values, n):
    """Simple moving average of the last `n` values (NaN during the first n - 1 bars)."""
    return pd.Series(values).rolling(n).mean().to_numpy()


class SmaReversal(Strategy):
    fast = FAST
    slow = SLOW

    def init(self):
        self.sma_fast = self.I(sma, self.data.Close, self.fast)
        self.sma_slow = self.I(sma, self.data.Close, self.slow)

    def next(self):
        # With exclusive_orders=True each order first closes the open trade: a reversal.
        if crossover(self.sma_fast, self.sma_slow):
            self.buy()
        elif crossover(self.sma_slow, self.sma_fast):
            self.sell()


def load():
    df = pd.read_csv(os.path.join(ROOT, DATA), parse_dates=["date"], index_col="date")
    df = df.rename(columns=str.capitalize)[["Open", "High", "Low", "Close", "Volume"]]
    return df.astype(float)


def number(x):
    """A JSON number, or None for NaN (a figure backtesting.py leaves undefined)."""
    x = float(x)
    return None if math.isnan(x) else x


def closest_cross_margin(df):
    """Smallest |fast - slow| over the bars after warm-up: how far the closest call is from a tie."""
    diff = sma(df.Close.to_numpy(), FAST) - sma(df.Close.to_numpy(), SLOW)
    return float(np.nanmin(np.abs(diff[SLOW - 1:])))


def main():
    df = load()
    bt = Backtest(
        df,
        SmaReversal,
        cash=CASH,
        commission=COMMISSION,
        trade_on_close=True,
        exclusive_orders=True,
        finalize_trades=False,
    )
    stats = bt.run()
    trades = stats["_trades"]
    broker_trades = stats["_strategy"]._broker.trades
    assert len(broker_trades) == 1, "always in the market: one trade left open"
    open_trade = broker_trades[0]
    out = {
        "package": "backtesting",
        "version": backtesting.__version__,
        "data": DATA,
        "bars": len(df),
        "settings": {
            "fast": FAST,
            "slow": SLOW,
            "cash": CASH,
            "commission": COMMISSION,
            "trade_on_close": True,
            "exclusive_orders": True,
            "finalize_trades": False,
            "size": "default (all available margin, whole units)",
        },
        "closest_cross_margin": closest_cross_margin(df),
        "trades": [
            {
                "entry_bar": int(t.EntryBar),
                "exit_bar": int(t.ExitBar),
                "size": int(t.Size),
                "entry_price": float(t.EntryPrice),
                "exit_price": float(t.ExitPrice),
                "pnl": float(t.PnL),
                "commission": float(t.Commission),
                "return": float(t.ReturnPct),
            }
            for t in trades.itertuples()
        ],
        "open_trade": {
            "entry_bar": int(open_trade.entry_bar),
            "size": int(open_trade.size),
            "entry_price": float(open_trade.entry_price),
        },
        "final_equity": float(stats["Equity Final [$]"]),
        "equity": [float(x) for x in stats["_equity_curve"]["Equity"]],
        "max_drawdown_duration_days": stats["Max. Drawdown Duration"] / pd.Timedelta(days=1),
        "stats": {
            key: number(stats[key])
            for key in [
                "Exposure Time [%]",
                "Equity Final [$]",
                "Equity Peak [$]",
                "Commissions [$]",
                "Return [%]",
                "Buy & Hold Return [%]",
                "Return (Ann.) [%]",
                "Volatility (Ann.) [%]",
                "CAGR [%]",
                "Sharpe Ratio",
                "Sortino Ratio",
                "Calmar Ratio",
                "Max. Drawdown [%]",
                "Avg. Drawdown [%]",
                "# Trades",
                "Win Rate [%]",
                "Best Trade [%]",
                "Worst Trade [%]",
                "Avg. Trade [%]",
                "Profit Factor",
                "Expectancy [%]",
                "SQN",
            ]
        },
    }
    path = os.path.join(ROOT, OUT)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"{len(out['trades'])} closed trades, final equity {out['final_equity']!r} -> {OUT}")


if __name__ == "__main__":
    main()

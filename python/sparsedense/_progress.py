"""progress=True: one tqdm bar per build stage (silent when tqdm is not installed)."""
from __future__ import annotations


def tqdm_progress():
    """A callable(stage, done, total) drawing tqdm bars, or None without tqdm."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    bars = {}

    def update(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=stage, unit="item", leave=False)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return update

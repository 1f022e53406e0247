"""Strict state-dict loading with one clear error for any mismatch, and the finiteness check every
loaded file gets (shared by model files, checkpoints and feature networks)."""

from .errors import StyleforgeError
from .tagged import check_finite


def load_state_strict(model, state: dict, source: str) -> None:
    """load_state_dict(strict=True) with one clear error for missing / unexpected / mis-shaped tensors."""
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong = [f"{k} {list(state[k].shape)} vs {list(own[k].shape)}"
             for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    problems = []
    if missing:
        problems.append(f"missing {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
    if unexpected:
        problems.append(f"unexpected {', '.join(unexpected[:5])}{' ...' if len(unexpected) > 5 else ''}")
    if wrong:
        problems.append(f"shape mismatch {', '.join(wrong[:3])}{' ...' if len(wrong) > 3 else ''}")
    if problems:
        raise StyleforgeError(f"{source} weights do not fit the network: {'; '.join(problems)}")
    check_finite(state, source)
    model.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items()}, strict=True)

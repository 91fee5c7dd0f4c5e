"""Port check: the published Virgo-trained CNN on the real Fornax cut-outs.

``python -m globsml.models._port_check ../shared/gcdata`` prints, per Fornax
galaxy, the published number of CNN-predicted GCs, ours and the difference
(:func:`globsml.models.published_port_check`). This module is only the
command line: the package does not import it.
"""

import sys

from .._errors import GlobsmlError
from ._published import published_port_check


def _main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m globsml.models._port_check",
        description="Port check: the published Virgo-trained CNN on the real Fornax cut-outs.",
    )
    parser.add_argument("data_dir", help="the real data directory (../shared/gcdata)")
    parser.add_argument("--mc-passes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        result = published_port_check(args.data_dir, mc_passes=args.mc_passes, random_state=args.seed,
                                      progress=True)
    except GlobsmlError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(result.to_string(index=False))
    diff = result["difference"]
    print(f"\n{len(result)} galaxies; published total {result['published'].sum()}, ours "
          f"{result['ours'].sum()}; |difference| mean {diff.abs().mean():.2f}, max {diff.abs().max()}; "
          f"{(diff == 0).sum()} identical")
    return 0


if __name__ == "__main__":
    sys.exit(_main())

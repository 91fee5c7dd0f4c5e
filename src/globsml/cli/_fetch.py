"""``globsml fetch``: download the published data set (and trained networks)."""

import sys

__all__ = ["register", "run"]


def register(subparsers):
    """Add the ``fetch`` subcommand."""
    from ..data._fetch import DEFAULT_BASE_URL

    parser = subparsers.add_parser(
        "fetch",
        help="download the published data set, verified against its git blob SHA-1s",
        description=(
            "Download every file of the published data folder of dodo47/GCDetection into DIR "
            "(DIR/ACS_sources_original.csv, DIR/ImageData/..., DIR/NGC1427a/...), checking each "
            "against the git blob SHA-1 of the published manifest. Verified files are skipped, "
            "interrupted downloads resume, nothing half-written ever carries a final name. "
            "Exits 1 when a file could not be fetched or failed verification."
        ),
    )
    parser.add_argument("directory", metavar="DIR", help="where to put the data directory")
    parser.add_argument(
        "--models", action="store_true",
        help="also fetch the published trained networks (into DIR/models/)",
    )
    parser.add_argument(
        "--only", metavar="PATTERN", action="append",
        help="fetch only files whose path matches this shell pattern, e.g. 'ImageData/FCC*' "
        "(repeatable)",
    )
    parser.add_argument(
        "--base-url", metavar="URL", default=DEFAULT_BASE_URL,
        help="URL template of a file; {commit} and {path} (the path in the repository) are "
        "filled in; without {path} the path is appended (default: %(default)s)",
    )
    parser.add_argument(
        "--manifest", metavar="TSV",
        help="fetch the files of this manifest (tab-separated: path, git_blob_sha1, size_bytes) "
        "instead of the published one, e.g. from a mirror",
    )
    parser.add_argument(
        "--rehash", action="store_true",
        help="re-hash files already present instead of trusting the record of verified files",
    )
    parser.add_argument("--no-progress", action="store_true", help="do not show progress bars")
    parser.set_defaults(func=run)
    return parser


def run(args):
    """Fetch into ``args.directory``; return 0, or 1 when some file failed."""
    from ..data import FetchError, fetch

    try:
        result = fetch(
            args.directory,
            models=args.models,
            only=args.only,
            manifest=args.manifest,
            base_url=args.base_url,
            rehash=args.rehash,
            progress=not args.no_progress,
        )
    except FetchError as exc:
        for line in exc.failures:
            print(f"globsml fetch: failed: {line}", file=sys.stderr)
        print(f"globsml fetch: {exc}", file=sys.stderr)
        return 1
    print(result.summary())
    return 0

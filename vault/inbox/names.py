"""File names in the inbox: which ones are documents, which are sidecars, which are left alone."""

from __future__ import annotations

import os
import re

SIDECAR_SUFFIX = ".json"
UNSORTED = "_unsorted"
PROCESSING = ".processing"
LOCK_NAME = ".watch.lock"
NAME_MAX = 255  # bytes in one file name (ext4, XFS, Btrfs, tmpfs)

# Editor, office, browser and OS droppings (security.md §3.4 rule 4). Dotfiles are covered
# separately: every name starting with "." is ignored, which includes our own .processing/.
_IGNORED = re.compile(
    r"""^(?:
        ~\$.*                       # MS Office owner files (~$board.docx)
      | ~WRL\d+\.tmp                # Word temp files
      | \#.*\#                      # Emacs auto-save
      | .*~                         # Vim / Emacs backups (memo.txt~)
      | .*\.(?:tmp|part|partial|crdownload|download|swp|swo)  # downloads and temp files
      | Thumbs\.db | desktop\.ini   # Windows
      | Icon\r                      # macOS folder icons
    )$""", re.IGNORECASE | re.VERBOSE)
# Folders that sync tools and operating systems create inside watched folders.
IGNORED_DIRS = frozenset({".stfolder", ".stversions", "@eaDir", ".Spotlight-V100", ".Trashes", "__MACOSX",
                          PROCESSING})


def is_ignored(name: str) -> bool:
    """True for names that are never filed: dotfiles, lock/temp/partial files, OS files."""
    return not name or name.startswith(".") or bool(_IGNORED.match(name))


def is_sidecar(name: str) -> bool:
    """`NAME.EXT.json` is the metadata of `NAME.EXT`; it is read with its file, never filed alone."""
    if not name.lower().endswith(SIDECAR_SUFFIX):
        return False
    stem = name[: -len(SIDECAR_SUFFIX)]
    return "." in stem.strip(".")


def sidecar_name(name: str) -> str:
    return name + SIDECAR_SUFFIX


def may_have_sidecar(name: str) -> bool:
    """False when NAME.json would pass the 255-byte file-name limit (it cannot exist, and looking
    it up raises ENAMETOOLONG instead of answering "no")."""
    return len(os.fsencode(sidecar_name(name))) <= NAME_MAX


def is_document(name: str) -> bool:
    """A name the intake files: not ignored and not a sidecar."""
    return not is_ignored(name) and not is_sidecar(name)

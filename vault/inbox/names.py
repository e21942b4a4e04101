"""File names in the inbox: which ones are documents, which are sidecars, which are left alone."""

from __future__ import annotations

import os
import re

SIDECAR_SUFFIX = ".json"
UNSORTED = "_unsorted"
PROCESSING = ".processing"
LOCK_NAME = ".watch.lock"
NAME_MAX = 255  # bytes in one file name (ext4, XFS, Btrfs, tmpfs)

# Editor, office, browser and OS droppings (security.md §3.4 rule 4): never filed, never reported.
# Other names starting with "." are not filed either, but the scan reports them (a hidden file
# nobody sees would otherwise sit in the inbox for ever).
_IGNORED = re.compile(
    r"""^(?:
        ~\$.*                       # MS Office owner files (~$board.docx)
      | \.~.*                       # LibreOffice locks (.~lock.board.odt#) and editors' .~ saves
      | \.\#.*                      # Emacs lock links (.#memo.txt)
      | \._.* | \.DS_Store          # macOS resource forks and folder settings
      | \.directory                 # KDE folder settings
      | \.nfs.* | \.fuse_hidden.*   # NFS and FUSE "silly renames" of deleted open files
      | \.sync(?:thing)?\..*         # sync tools' temp files
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
    return not name or name.startswith(".") or is_temporary(name)


def is_temporary(name: str) -> bool:
    """Editor, office, download and OS droppings: left alone silently (the other dot-names are reported)."""
    return bool(_IGNORED.match(name))


def readable_name(name: str) -> str:
    """The name as a person reads it: a name that is not UTF-8 on disk (e.g. cp1250 bytes from an old
    Windows share, which Python holds as surrogate escapes) is decoded as cp1250, else repaired with
    U+FFFD, so the record gets a readable name instead of an encoding error."""
    raw = os.fsencode(name)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1250")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace")


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

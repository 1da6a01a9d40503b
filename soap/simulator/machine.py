"""The firm's Windows PC: company files by path, and QuickBooks with at most one of them open.

An accounting firm keeps many clients' company files on one machine. The bookkeeper opens one
in QuickBooks (`open`), or none (`close`: QuickBooks not running). QBWC's OpenConnection and
BeginSession (`begin_session`) then succeed or fail the way QuickBooks' request processor
does, with its HRESULTs: with QuickBooks closed a named file is opened unattended for the
session only; with a file open, only that file can be used (single-user mode, as in
HostRet/QBFileMode).

Adding a .qwc to QBWC (`add_qwc`) writes its FileID into the company file that is open, as a
private data extension named "FileID" under the .qwc's OwnerID: a CompanyQueryRq naming that
OwnerID returns it (soap.simulator.qbxml_answer).
"""

from __future__ import annotations

import re

from soap.simulator.company import FakeCompany
from soap.simulator.qbxml_answer import parse_safe

# The request processor's HRESULTs and messages for the failures modelled here.
NOT_RUNNING = (
    "0x80040416",
    'If QuickBooks is not running, a call to the "BeginSession" method must include the name '
    "of the QuickBooks company data file.",
)
CANNOT_OPEN = ("0x80040403", "Could not open the specified QuickBooks company data file.")
OTHER_FILE_OPEN = (
    "0x8004040A",
    "The QuickBooks company data file is already open and it is different from the one requested.",
)
FILE_ID = "FileID"  # the data extension QBWC writes under a .qwc's OwnerID
_GUID = re.compile(r"\{[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\}", re.ASCII)


class OpenFailure(Exception):
    """QBWC could not open the company file (OpenConnection/BeginSession failed)."""

    def __init__(self, hresult: str, message: str) -> None:
        super().__init__(f"{hresult}: {message}")
        self.hresult = hresult
        self.message = message


class FakeMachine:
    """Company files by path; QuickBooks closed or with exactly one of them open.

    Paths compare as Windows compares them (case-insensitively); the stored spelling is the
    one QuickBooks reports (strCompanyFileName).
    """

    def __init__(self) -> None:
        self.files: dict[str, FakeCompany] = {}
        self.open_path: str | None = None  # the file open in QuickBooks; None: not running

    def add_file(self, path: str, company: FakeCompany) -> None:
        """Put a company file on the machine."""
        if not path or self.find(path) is not None:
            raise ValueError(f"a file is already at {path!r}" if path else "a path is needed")
        self.files[path] = company

    def find(self, path: str) -> str | None:
        """The stored path of the file at `path` (any letter case), or None."""
        folded = path.casefold()
        return next((p for p in self.files if p.casefold() == folded), None)

    def open(self, path: str) -> None:
        """The bookkeeper opens that file in QuickBooks (closing whichever was open)."""
        found = self.find(path)
        if found is None:
            raise KeyError(path)
        self.open_path = found

    def close(self) -> None:
        """QuickBooks is closed."""
        self.open_path = None

    def move(self, old_path: str, new_path: str) -> None:
        """The file moves (or is renamed) with its data; if it was open it stays open."""
        found = self.find(old_path)
        if found is None:
            raise KeyError(old_path)
        clash = self.find(new_path)
        if not new_path or clash not in (None, found):
            raise ValueError(f"a file is already at {new_path!r}")
        self.files[new_path] = self.files.pop(found)
        if self.open_path == found:
            self.open_path = new_path

    def add_qwc(self, qwc_xml: str) -> None:
        """What QBWC does when the admin adds a .qwc: FileID stored under OwnerID in the open
        file (an existing one replaced). OpenFailure with QuickBooks closed."""
        root = parse_safe(qwc_xml)
        owner_id = (root.findtext("OwnerID") or "").strip()
        file_id = (root.findtext("FileID") or "").strip()
        if root.tag != "QBWCXML" or not _GUID.fullmatch(owner_id) or not _GUID.fullmatch(file_id):
            raise ValueError("not a .qwc with an OwnerID and a FileID GUID")
        if self.open_path is None:
            raise OpenFailure(*NOT_RUNNING)
        self.files[self.open_path].data_ext[(owner_id.upper(), FILE_ID)] = file_id

    def begin_session(self, requested: str) -> tuple[str, FakeCompany]:
        """QBWC's OpenConnection + BeginSession for authenticate's answer `requested` ("" =
        the file open in QuickBooks): the path opened and its company, or OpenFailure."""
        if not requested:
            if self.open_path is None:
                raise OpenFailure(*NOT_RUNNING)
            return self.open_path, self.files[self.open_path]
        found = self.find(requested)
        if self.open_path is not None:
            if found != self.open_path:
                raise OpenFailure(*OTHER_FILE_OPEN)
            return found, self.files[found]
        if found is None:
            raise OpenFailure(*CANNOT_OPEN)
        # QuickBooks not running: the request processor opens the file unattended, for this
        # session only; QuickBooks stays closed for the user.
        return found, self.files[found]

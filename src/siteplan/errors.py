"""Exception types of siteplan.

Every error a user can cause derives from :class:`SiteplanError`. The CLI turns a
``SiteplanError`` into one clear line (``str(err)``) and a non-zero exit code; any other
exception is a bug and is shown with its traceback.

Errors about an input name the file, the row (1-based, as a spreadsheet shows it: the
header is row 1, the first record row 2) and the column where they can.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class SiteplanError(Exception):
    """Base class of every error siteplan raises on purpose."""

    exit_code: int = 2


class _Located(SiteplanError):
    """An error that can name the file, row, column where it was found, and a hint."""

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.row = row
        self.column = column
        self.hint = hint
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column '{self.column}'")
        text = (", ".join(where) + ": " if where else "") + self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class InputError(_Located):
    """An input file or value is wrong.

    Parameters
    ----------
    message : str
        What is wrong and what was expected.
    file : str or Path, optional
        The file the value came from.
    row : int, optional
        Spreadsheet-style row number (header = 1, first record = 2) or feature number.
    column : str, optional
        Column (field) name.
    hint : str, optional
        How to fix it (e.g. "pass --crs EPSG:4326").
    """


class ScenarioError(InputError):
    """The scenario file is wrong (unknown key, bad value, missing file)."""


class CRSError(InputError):
    """A coordinate reference system is missing, wrong or unsuitable for metric work."""


class MultipleInputErrors(InputError):
    """Several problems found in one input; all are reported together.

    Parameters
    ----------
    errors : iterable of InputError
        The individual problems, in file order.
    """

    def __init__(self, errors: Iterable[InputError]) -> None:
        self.errors = list(errors)
        first = self.errors[0] if self.errors else None
        more = len(self.errors) - 1
        msg = str(first) if first else "invalid input"
        if more > 0:
            msg += f" (and {more} more problem{'s' if more > 1 else ''}: " + "; ".join(
                str(e) for e in self.errors[1:4]
            ) + (" ..." if more > 3 else "") + ")"
        SiteplanError.__init__(self, msg)
        self.message, self.file, self.row, self.column, self.hint = msg, None, None, None, None

    def _format(self) -> str:  # pragma: no cover - message built in __init__
        return self.message


class NetworkError(_Located):
    """The travel network is unusable (NaN or zero travel time, no edges, bad speed table).

    Takes the same optional ``file``, ``row``, ``column`` and ``hint`` as
    :class:`InputError` and is shown the same way (``FILE, row N, column 'x': message``)
    when a roads row is at fault.
    """


class SolverError(SiteplanError):
    """The MILP solver failed or returned a status that is not a usable solution."""


class InfeasibleError(SolverError):
    """A location model has no feasible solution.

    Parameters
    ----------
    message : str
        Why the model is infeasible.
    uncoverable : list of str, optional
        IDs of demand points that no candidate site can cover.
    """

    def __init__(self, message: str, *, uncoverable: list[str] | None = None) -> None:
        self.uncoverable = list(uncoverable or [])
        super().__init__(message)


class PrivacyError(SiteplanError):
    """Child-level data would reach an output, or a suppression rule cannot be met."""


class OutputError(SiteplanError):
    """Outputs could not be written (the previous outputs are left untouched)."""


class CostCatalogueError(InputError):
    """The cost catalogue (``costs.toml``) is wrong: unknown key, missing or negative value,
    missing source, or an item that a site type names but the catalogue lacks."""


class CostingError(InputError):
    """The sites/villages/townships given to the costing are unusable, or a site cannot be
    phased (e.g. dearer than a whole year's budget with ``oversize_site = "error"``)."""


class InputWarning(UserWarning):
    """An input was accepted with a change the user should know about (rows dropped or
    excluded, e.g. ledger children aged 16 or over, zero-length road segments)."""


class OSMDownloadError(SiteplanError):
    """OpenStreetMap data could not be downloaded (no network, Overpass error or timeout).

    Raised by :func:`siteplan.osm.download_osm`; a cached area is read without the network.
    """

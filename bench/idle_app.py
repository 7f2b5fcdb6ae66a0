"""The floor: an idle Textual app of the same size, a DataTable of N rows that never changes."""

from __future__ import annotations

import sys

from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, Static


class IdleApp(App[None]):
    def __init__(self, rows: int) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        yield Static(f"idle baseline: {self.rows} domains:")
        yield DataTable()
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Name", "ID", "State", "Mode", "Mem", "MaxMem", "VCPUs", "CPU%", "CPU time")
        for i in range(self.rows):
            table.add_row(f"guest-{i:04d}", str(i), "running", "PV", "1024M", "1024M", "2", "0.0", "0:00:00")


if __name__ == "__main__":
    IdleApp(int(sys.argv[1]) if len(sys.argv) > 1 else 100).run()

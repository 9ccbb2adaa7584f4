"""The DAG Tracker (seeds M3.2, M5.5): executes workflows with real parallelism.

API index (the submodules hold the documentation):

- :mod:`.executor` — :class:`DagTracker` (creates/opens runs), :class:`Run` (execute, pause,
  resume, cancel, retry_failed, approve, metrics), :class:`RunOptions`, :class:`RunSummary`,
  :class:`NodeExecutor` (the seam for process pools / distributed executors)
- :mod:`.events` — :class:`ProgressEvent`, :class:`EventSink`, :class:`EventHub`
- :mod:`.bus_events` — :class:`BusEventSink`: progress events on the message bus
  (``runs.<run_id>.nodes.<node_id>.<event>``, ``runs.<run_id>.progress``)
- :mod:`.outputs` — :class:`OutputSink`, :class:`ArtifactOutputSink`: node outputs into the
  artifact store with lineage
- :mod:`.journal` — the append-only, batched journal and atomic snapshots
- :mod:`.store` — :class:`RunStore`: run history, audit log
- :mod:`.cli` — ``symphony run`` / ``symphony runs``
"""

from __future__ import annotations

from symphony.pit.dag_tracker.bus_events import BusEventSink
from symphony.pit.dag_tracker.events import EventHub, EventSink, ProgressEvent, Subscription
from symphony.pit.dag_tracker.executor import (
    DagTracker,
    NodeExecutor,
    NodeFailed,
    NodeMetrics,
    NodeTimeout,
    ProcessPoolNodeExecutor,
    Run,
    RunOptions,
    RunSummary,
)
from symphony.pit.dag_tracker.outputs import ArtifactOutputSink, OutputSink
from symphony.pit.dag_tracker.store import RunStore, default_root

__all__ = [
    "ArtifactOutputSink",
    "BusEventSink",
    "DagTracker",
    "EventHub",
    "EventSink",
    "NodeExecutor",
    "NodeFailed",
    "NodeMetrics",
    "NodeTimeout",
    "OutputSink",
    "ProcessPoolNodeExecutor",
    "ProgressEvent",
    "Run",
    "RunOptions",
    "RunStore",
    "RunSummary",
    "Subscription",
    "default_root",
]

"""The message bus on trio (seed M1.5): one API in-process and across processes.

=============================  ===============================================================
name                           what
=============================  ===============================================================
:class:`Bus`                   the service: endpoints, handlers, send/request/publish, links
:class:`Router`                exact (O(1), cached) and glob routes, priorities, default route
:class:`EndpointRegistry`      register/unregister/lookup, capability index, change events
:class:`RequestCorrelator`     pending requests, one deadline heap served by one task
:class:`PubSub`                ``*``/``#`` topic trie + cache, filters, slow-subscriber policy
:class:`HealthMonitor`         heartbeats, UNREACHABLE within timeout + interval, events
:class:`MessageBatcher`        size/time batching (sans-I/O); :class:`BatchSender` on trio
=============================  ===============================================================
"""

from __future__ import annotations

from symphony.bus.batching import BatchSender as BatchSender
from symphony.bus.batching import MessageBatcher as MessageBatcher
from symphony.bus.bus import Bus as Bus
from symphony.bus.bus import BusStats as BusStats
from symphony.bus.bus import Link as Link
from symphony.bus.correlation import RequestCorrelator as RequestCorrelator
from symphony.bus.health import HealthEvent as HealthEvent
from symphony.bus.health import HealthMonitor as HealthMonitor
from symphony.bus.pubsub import Policy as Policy
from symphony.bus.pubsub import PubSub as PubSub
from symphony.bus.pubsub import Subscription as Subscription
from symphony.bus.pubsub import topic_matches as topic_matches
from symphony.bus.registry import EndpointInfo as EndpointInfo
from symphony.bus.registry import EndpointRegistry as EndpointRegistry
from symphony.bus.registry import RegistryEvent as RegistryEvent
from symphony.bus.router import Route as Route
from symphony.bus.router import Router as Router

__all__ = [
    "BatchSender",
    "Bus",
    "BusStats",
    "EndpointInfo",
    "EndpointRegistry",
    "HealthEvent",
    "HealthMonitor",
    "Link",
    "MessageBatcher",
    "Policy",
    "PubSub",
    "RegistryEvent",
    "RequestCorrelator",
    "Route",
    "Router",
    "Subscription",
    "topic_matches",
]

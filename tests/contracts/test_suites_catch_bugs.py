"""The contract suites can fail: each deliberately broken adapter below must be caught.

Every mutant is a mock adapter with one realistic bug. A contract suite that let one of them
pass would be a suite that cannot fail, so each is asserted to raise ``AssertionError``
from the check aimed at its bug (never to hang: event waits are bounded, and the autojump
clock makes them instant).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest
import trio.testing

from symphony.commons.errors import PortError, PortInvalidRequest, PortNotFound
from symphony.ports import testing
from symphony.ports import types as t
from symphony.ports.mocks import (
    MockConductorPort,
    MockDataAccessPort,
    MockExtensionPort,
    MockPitPort,
    MockPreValidationPort,
    MockTextEditingPort,
    _Buffer,
)

Check = Callable[[], Awaitable[None]]


# --------------------------------------------------------------------------- text editing
class UndoKeepsRevision(MockTextEditingPort):
    async def undo(self, buffer_id: t.BufferId) -> t.Revision:
        rev = await super().undo(buffer_id)
        return t.Revision(rev.value - 1)


class KeyErrorForUnknownBuffer(MockTextEditingPort):
    async def get_content(self, buffer_id: t.BufferId) -> str:
        if buffer_id not in self._buffers:
            raise KeyError(buffer_id)
        return await super().get_content(buffer_id)


class NoOpBumpsRevision(MockTextEditingPort):
    async def insert(self, buffer_id: t.BufferId, pos: int, text: str) -> t.Revision:
        if text == "":
            return await super().insert(buffer_id, pos, "\u200b")
        return await super().insert(buffer_id, pos, text)


class NotAtomic(MockTextEditingPort):
    async def edit(
        self,
        buffer_id: t.BufferId,
        edits: Sequence[t.TextEdit],
        *,
        base_revision: t.Revision | None = None,
    ) -> t.Revision:
        rev = t.Revision(0)
        for e in reversed(list(edits)):  # one step per edit, back to front
            rev = await super().edit(buffer_id, [e], base_revision=None)
        return rev if edits else await super().edit(buffer_id, [])


class UndoWithNothingIsANoOp(MockTextEditingPort):
    async def undo(self, buffer_id: t.BufferId) -> t.Revision:
        try:
            return await super().undo(buffer_id)
        except PortInvalidRequest:
            return self._buffers[buffer_id].revision


class EventsWithoutEdits(MockTextEditingPort):
    def _publish(
        self,
        buf: _Buffer,
        kind: t.BufferEventKind,
        edits: tuple[t.TextEdit, ...] = (),
        path: str | None = None,
    ) -> None:
        super()._publish(buf, kind, (), path)


class SubscriptionNeverEnds(MockTextEditingPort):
    def subscribe(
        self, buffer_id: t.BufferId
    ) -> AbstractAsyncContextManager[AsyncIterator[t.BufferEvent]]:
        inner = super().subscribe(buffer_id)

        @asynccontextmanager
        async def cm() -> AsyncIterator[AsyncIterator[t.BufferEvent]]:
            async with inner as events:

                async def forever() -> AsyncIterator[t.BufferEvent]:
                    async for ev in events:
                        yield ev
                    await trio.sleep_forever()
                    raise AssertionError("unreachable")  # pragma: no cover

                yield forever()

        return cm()


class ClosedBufferStillReadable(MockTextEditingPort):
    async def close(self, buffer_id: t.BufferId) -> None:
        buf = self._buffers.get(buffer_id)
        await super().close(buffer_id)
        if buf is not None:
            self._buffers[buffer_id] = buf


class ByteOffsets(MockTextEditingPort):
    async def insert(self, buffer_id: t.BufferId, pos: int, text: str) -> t.Revision:
        content = self._buffers[buffer_id].text if buffer_id in self._buffers else ""
        if 0 <= pos <= len(content):
            pos = min(len(content[:pos].encode("utf-8")), len(content))
        return await super().insert(buffer_id, pos, text)


# --------------------------------------------------------------------------- other ports
class RandomArtifactIds(MockPitPort):
    async def store_artifact(
        self, content: bytes, metadata: t.ArtifactMetadata | None = None
    ) -> t.ArtifactId:
        await super().store_artifact(content, metadata)
        aid = t.ArtifactId(f"random-{len(self.calls)}")
        self._artifacts[aid] = t.Artifact(aid, bytes(content), metadata or t.ArtifactMetadata())
        return aid


class DoubleReleaseAllowed(MockPitPort):
    async def release_model(self, handle: t.ModelHandle) -> None:
        if handle.handle_id in self.allocations:
            await super().release_model(handle)


class CyclesAccepted(MockPitPort):
    async def execute_workflow(self, workflow: t.WorkflowSpec) -> t.ExecutionId:
        await self._enter("execute_workflow", workflow=workflow)
        return t.ExecutionId(f"e-{len(self.calls)}")


class LowestPriorityWins(MockPitPort):
    async def resolve_conflict(self, conflict: t.Conflict) -> t.Resolution:
        res = await super().resolve_conflict(conflict)
        ranking = tuple(reversed(res.ranking))
        return dataclasses.replace(res, winner=ranking[0], ranking=ranking)


class LoadTwiceAllowed(MockExtensionPort):
    async def load(self, manifest: t.ExtensionManifest) -> t.ExtensionId:
        self.loaded.pop(manifest.id, None)
        return await super().load(manifest)


class SilentUnload(MockExtensionPort):
    def _stop(
        self, extension_id: t.ExtensionId, kind: t.ExtensionEventKind, payload: object
    ) -> None:
        del self.loaded[extension_id]
        self._hub.finish(extension_id)


class FailIsNotFound(MockExtensionPort):
    async def invoke(
        self, extension_id: t.ExtensionId, request: t.ExtensionRequest
    ) -> t.ExtensionResponse:
        try:
            return await super().invoke(extension_id, request)
        except PortError as exc:
            raise PortNotFound(str(exc)) from exc


class ChoosesOutsideCandidates(MockConductorPort):
    async def submit_decision(self, context: t.DecisionContext) -> t.Decision:
        d = await super().submit_decision(context)
        return dataclasses.replace(d, choice=d.choice + "?")


class AcceptsNaNRewards(MockConductorPort):
    async def report_reward(self, episode_id: t.EpisodeId, reward: float) -> None:
        await super().report_reward(episode_id, 0.0 if math.isnan(reward) else reward)


class ForgetsToCountOrchestrations(MockConductorPort):
    async def orchestrate(self, request: t.OrchestrationRequest) -> t.OrchestrationResult:
        result = await super().orchestrate(request)
        self._orchestrations -= 1
        return result


class VersionNotBumped(MockDataAccessPort):
    async def update(
        self,
        collection: str,
        record_id: t.RecordId,
        data: Mapping[str, t.Plain],
        *,
        expected_version: int | None = None,
    ) -> t.DataRecord:
        rec = await super().update(collection, record_id, data, expected_version=expected_version)
        fixed = dataclasses.replace(rec, version=rec.version - 1)
        self._store[collection][record_id] = fixed
        return fixed


class LooseQueryEquality(MockDataAccessPort):
    async def query(self, query: t.DataQuery) -> t.QueryPage:
        await self._enter("query", query=query)
        records = self._collection(query.collection, "query")
        matches = [
            r
            for r in records.values()
            if all(k in r.data and r.data[k] == v for k, v in query.where.items())
        ]
        page = tuple(
            matches[query.offset : None if query.limit is None else query.offset + query.limit]
        )
        end = query.offset + len(page)
        return t.QueryPage(page, len(matches), end if end < len(matches) else None)


class StoresRefusedRecords(MockDataAccessPort):
    def _authorise(self, collection: str, data: Mapping[str, t.Plain], method: str) -> None:
        if method == "create":
            return
        super()._authorise(collection, data, method)


class FirstFailureOnly(MockPreValidationPort):
    async def validate(self, kind: str, data: Mapping[str, t.Plain]) -> t.ValidationResult:
        result = await super().validate(kind, data)
        return dataclasses.replace(result, failures=result.failures[:1])


class UnknownKindIsValid(MockPreValidationPort):
    async def validate(self, kind: str, data: Mapping[str, t.Plain]) -> t.ValidationResult:
        if kind not in self.rules:
            return t.ValidationResult(kind)
        return await super().validate(kind, data)


MUTANTS: dict[str, tuple[Check, str]] = {
    "undo keeps the revision": (
        lambda: testing.check_text_editing_port(UndoKeepsRevision),
        "undo after no-ops undoes the real change",
    ),
    "KeyError for an unknown buffer": (
        lambda: testing.check_text_editing_port(KeyErrorForUnknownBuffer),
        "on an unknown buffer: expected PortNotFound, got KeyError",
    ),
    "a no-op insert bumps the revision": (
        lambda: testing.check_text_editing_port(NoOpBumpsRevision),
        "inserting '' on a new buffer",
    ),
    "multi-edits are not atomic": (
        lambda: testing.check_text_editing_port(NotAtomic),
        "multi-edit revision",
    ),
    "undo with nothing to undo is a no-op": (
        lambda: testing.check_text_editing_port(UndoWithNothingIsANoOp),
        "undo after only a no-op insert",
    ),
    "events carry no edits": (
        lambda: testing.check_text_editing_port(EventsWithoutEdits),
        "content rebuilt from the events' edits",
    ),
    "subscriptions never end": (
        lambda: testing.check_text_editing_port(SubscriptionNeverEnds),
        "did not end within",
    ),
    "a closed buffer stays readable": (
        lambda: testing.check_text_editing_port(ClosedBufferStillReadable),
        "get_content on a closed buffer",
    ),
    "positions are UTF-8 byte offsets": (
        lambda: testing.check_text_editing_port(ByteOffsets),
        "insert after astral text",
    ),
    "artifact ids are not content addresses": (
        lambda: testing.check_pit_port(RandomArtifactIds),
        "equal content, equal artifact id",
    ),
    "a handle can be released twice": (
        lambda: testing.check_pit_port(DoubleReleaseAllowed),
        "releasing a handle twice",
    ),
    "cyclic workflows are accepted": (
        lambda: testing.check_pit_port(CyclesAccepted),
        "a workflow with a cycle",
    ),
    "the lowest priority wins": (
        lambda: testing.check_pit_port(LowestPriorityWins),
        "lacks top priority",
    ),
    "an extension loads twice": (
        lambda: testing.check_extension_port(LoadTwiceAllowed),
        "loading an extension twice",
    ),
    "unload sends no UNLOADED event": (
        lambda: testing.check_extension_port(SilentUnload),
        "UNLOADED: the event stream ended early",
    ),
    "an extension failure looks like not-found": (
        lambda: testing.check_extension_port(FailIsNotFound),
        "but not PortNotFound",
    ),
    "a choice outside the candidates": (
        lambda: testing.check_conductor_port(ChoosesOutsideCandidates),
        "is not a candidate",
    ),
    "a NaN reward is accepted": (
        lambda: testing.check_conductor_port(AcceptsNaNRewards),
        "a reward of nan",
    ),
    "orchestrations are not counted": (
        lambda: testing.check_conductor_port(ForgetsToCountOrchestrations),
        "orchestrations counted",
    ),
    "updates keep the version": (
        lambda: testing.check_data_access_port(VersionNotBumped),
        "updated record",
    ),
    "queries match 1 == True == 1.0": (
        lambda: testing.check_data_access_port(LooseQueryEquality),
        "where v == 1 (int only)",
    ),
    "refused creates are stored": (
        lambda: testing.check_data_access_port(StoresRefusedRecords),
        "creating data the authority refuses",
    ),
    "only the first failure is reported": (
        lambda: testing.check_pre_validation_port(FirstFailureOnly),
        "every failure must be reported",
    ),
    "an unknown kind validates": (
        lambda: testing.check_pre_validation_port(UnknownKindIsValid),
        "validating an unknown kind",
    ),
}


@pytest.mark.parametrize("name", sorted(MUTANTS))
async def test_contract_suite_catches(name: str, autojump_clock: trio.testing.MockClock) -> None:
    check, reason = MUTANTS[name]
    with pytest.raises(AssertionError, match=re.escape(reason)):
        await check()


async def test_the_unbroken_mocks_pass(autojump_clock: trio.testing.MockClock) -> None:
    # The control group: the same suites pass on the mocks the mutants derive from.
    await testing.check_text_editing_port(MockTextEditingPort)
    await testing.check_pit_port(MockPitPort)
    await testing.check_extension_port(MockExtensionPort)
    await testing.check_conductor_port(MockConductorPort)
    await testing.check_data_access_port(MockDataAccessPort)
    await testing.check_pre_validation_port(MockPreValidationPort)

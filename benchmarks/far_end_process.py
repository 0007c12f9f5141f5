"""Starting and steering :mod:`benchmarks.far_end` from the measuring process."""

from __future__ import annotations

import asyncio
import json
import sys
from types import TracebackType
from typing import Any, Self

from .far_end import Sent


class FarEnd:
    """The simulated PBX in a child process (``async with FarEnd(n) as far: far.port``)."""

    def __init__(self, extensions: int, answer_delay: float = 0.0) -> None:
        self.extensions = extensions
        self.answer_delay = answer_delay
        self.port = 0
        self._process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Self:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "benchmarks.far_end",
            "--extensions",
            str(self.extensions),
            "--answer-delay",
            str(self.answer_delay),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=256 * 1024 * 1024,
        )
        self.port = int((await self._answer())["port"])
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        process = self._process
        if process is not None and process.returncode is None:
            assert process.stdin is not None
            process.stdin.close()
            try:
                async with asyncio.timeout(5):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()

    async def load(self, rate: float, seconds: float) -> list[Sent]:
        """Have the far end send ``rate`` reports a second for ``seconds``.

        Calls still ringing afterwards ring on until :meth:`end_calls`.
        """
        sent = (await self._command({"rate": rate, "seconds": seconds}))["sent"]
        return [
            (str(call_id), str(kind), float(mono), float(wall))
            for call_id, kind, mono, wall in sent
        ]

    async def end_calls(self) -> int:
        """Have the far end give up every call still ringing; how many it gave up."""
        return int((await self._command({"end_calls": True}))["ended"])

    async def _command(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self._process is not None and self._process.stdin is not None
        self._process.stdin.write(json.dumps(command).encode() + b"\n")
        await self._process.stdin.drain()
        return await self._answer()

    async def _answer(self) -> dict[str, Any]:
        assert self._process is not None and self._process.stdout is not None
        line = await self._process.stdout.readline()
        if not line:
            raise RuntimeError("the simulated PBX process ended")
        answer: dict[str, Any] = json.loads(line)
        return answer

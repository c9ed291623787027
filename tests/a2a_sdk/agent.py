"""A real A2A agent server on the official `a2a-sdk` (1.3.0), for the tests.

Serves A2A v1.0 JSON-RPC with v0.3 compatibility on one endpoint (`/`), and
its agent card at `/.well-known/agent-card.json`, on 127.0.0.1. The embedded
platform's proxy forwards `POST /workspaces/{peer}/a2a` here.

What it answers, by the text it is sent:
  "task: X"   a Task: working, then completed with a status message
              "done: X" and an artifact "X" upper-cased
  "fail: X"   a Task that fails with the status message "failed: X"
  "stream: N" a Task with N artifact updates "chunk i", then completed
  "wait: X"   a Task left working (to be fetched or cancelled), message "waiting: X"
  "slow: N"   like "stream: N", an artifact update every 0.3 s (to be subscribed to)
  "ask: X"    a Task that needs input (input-required, status message "what about X?");
              a message continuing it (its task and context ids) with text Y completes
              it with the status message "done: X+Y" and an artifact "X+Y"
  "tenant?"   a Message "tenant: <the request's tenant>"
  "extensions?" a Message "extensions: <the extensions requested, sorted, comma-separated>"
  a message with a data or file part, or metadata: a Message that echoes every part
              and the metadata back
  otherwise   a Message "echo: <text>"

Usage: python agent.py PORT   (prints "listening <port>" when ready; stops
when its stdin closes, so a test that dies leaves no server behind)
"""

import asyncio
import sys
import threading
import os

import uvicorn
from starlette.applications import Starlette

from a2a.helpers.proto_helpers import new_message, new_task_from_user_message, new_text_message, new_text_part
from a2a.server.agent_execution.agent_executor import AgentExecutor
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes.agent_card_routes import create_agent_card_routes
from a2a.server.routes.jsonrpc_routes import create_jsonrpc_routes
from a2a.server.tasks.inmemory_push_notification_config_store import InMemoryPushNotificationConfigStore
from a2a.server.tasks.inmemory_task_store import InMemoryTaskStore
from a2a.server.tasks.task_updater import TaskUpdater
from a2a.types.a2a_pb2 import AgentCapabilities, AgentCard, AgentInterface, AgentSkill, TaskState


class Echo(AgentExecutor):
    async def execute(self, context, event_queue):
        text = context.get_user_input()
        asked = context.current_task
        if asked is not None and asked.status.state == TaskState.TASK_STATE_INPUT_REQUIRED:
            question = asked.status.message.parts[0].text
            answer = f"{question[len('what about '):-1]}+{text}"
            updater = TaskUpdater(event_queue, asked.id, asked.context_id)
            await updater.add_artifact([new_text_part(answer)], name="answer")
            await updater.complete(updater.new_agent_message([new_text_part(f"done: {answer}")]))
            return
        if text == "tenant?":
            await event_queue.enqueue_event(new_text_message(f"tenant: {context.tenant}", context_id=context.context_id))
            return
        if text == "extensions?":
            requested = ",".join(sorted(context.requested_extensions))
            await event_queue.enqueue_event(new_text_message(f"extensions: {requested}", context_id=context.context_id))
            return
        message = context.message
        if message.HasField("metadata") or any(p.WhichOneof("content") != "text" for p in message.parts):
            echo = new_message(list(message.parts), context_id=context.context_id)
            if message.HasField("metadata"):
                echo.metadata.CopyFrom(message.metadata)
            await event_queue.enqueue_event(echo)
            return
        if not any(text.startswith(p) for p in ("task: ", "fail: ", "stream: ", "slow: ", "wait: ", "ask: ")):
            await event_queue.enqueue_event(new_text_message(f"echo: {text}", context_id=context.context_id))
            return
        task = context.current_task or new_task_from_user_message(context.message)
        await event_queue.enqueue_event(task)
        updater = TaskUpdater(event_queue, task.id, task.context_id)
        verb, _, rest = text.partition(": ")
        if verb == "task":
            await updater.start_work()
            await updater.add_artifact([new_text_part(rest.upper())], name="echo-result")
            await updater.complete(updater.new_agent_message([new_text_part(f"done: {rest}")]))
        elif verb == "fail":
            await updater.failed(updater.new_agent_message([new_text_part(f"failed: {rest}")]))
        elif verb in ("stream", "slow"):
            await updater.start_work()
            for i in range(int(rest)):
                await asyncio.sleep(0.02 if verb == "stream" else 0.3)
                await updater.add_artifact([new_text_part(f"chunk {i}")], name=f"chunk-{i}")
            await updater.complete(updater.new_agent_message([new_text_part(f"streamed {rest}")]))
        elif verb == "ask":
            await updater.requires_input(updater.new_agent_message([new_text_part(f"what about {rest}?")]))
        elif verb == "wait":
            await updater.start_work(updater.new_agent_message([new_text_part(f"waiting: {rest}")]))

    async def cancel(self, context, event_queue):
        task = context.current_task
        updater = TaskUpdater(event_queue, task.id, task.context_id)
        await updater.cancel(updater.new_agent_message([new_text_part("canceled")]))


# The one extension this agent supports: when a request asks for it, the
# answer says it was activated (an A2A-Extensions header; the request may name
# it in A2A-Extensions or v0.3's X-A2A-Extensions), as A2A servers do. The SDK leaves that header to the application.
ECHO_EXTENSION = "urn:a2a-test:echo"


class ActivateExtensions:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        requested = set()
        for name, value in scope["headers"]:
            if name.lower() in (b"a2a-extensions", b"x-a2a-extensions"):
                requested |= {v.strip() for v in value.decode().split(",")}

        async def send_with_header(message):
            if message["type"] == "http.response.start" and ECHO_EXTENSION in requested:
                headers = list(message.get("headers", []))
                headers.append((b"a2a-extensions", ECHO_EXTENSION.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_header)


def main():
    port = int(sys.argv[1])
    url = f"http://127.0.0.1:{port}/"
    card = AgentCard(
        name="SDK Echo",
        description="Echoes, builds tasks, streams, fails and waits on request (tests)",
        version="1.3.0-test",
        supported_interfaces=[
            AgentInterface(url=url, protocol_binding="JSONRPC", protocol_version="1.0"),
            AgentInterface(url=url, protocol_binding="JSONRPC", protocol_version="0.3"),
        ],
        capabilities=AgentCapabilities(streaming=True, extended_agent_card=True, push_notifications=True),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
        skills=[AgentSkill(id="echo", name="Echo", description="Says it back", tags=["test"])],
    )
    # What authenticated callers see: one more skill.
    extended = AgentCard()
    extended.CopyFrom(card)
    extended.name = "SDK Echo (extended)"
    extended.skills.append(AgentSkill(id="audit", name="Audit", description="For known callers", tags=["test"]))
    handler = DefaultRequestHandler(
        agent_executor=Echo(),
        task_store=InMemoryTaskStore(),
        agent_card=card,
        extended_agent_card=extended,
        # Configs are kept (create, get, list, delete); no updates are POSTed.
        push_config_store=InMemoryPushNotificationConfigStore(),
    )
    routes = create_agent_card_routes(card) + create_jsonrpc_routes(handler, "/", enable_v0_3_compat=True)
    app = ActivateExtensions(Starlette(routes=routes))
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)

    def watch_stdin():
        sys.stdin.read()
        server.should_exit = True

    threading.Thread(target=watch_stdin, daemon=True).start()
    original_startup = server.startup

    async def startup(sockets=None):
        await original_startup(sockets)
        print(f"listening {port}", flush=True)

    server.startup = startup
    server.run()


if __name__ == "__main__":
    main()

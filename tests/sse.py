"""Reading a Server-Sent Events body in tests: its events and its comments, in order."""

import json


def parse(text: str) -> list[tuple[str, object]]:
    """(event name, data as JSON) for each event and ("comment", text) for each comment line, in order."""
    items = []
    for block in text.split("\n\n"):
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith(":"):
                items.append(("comment", line[1:].strip()))
            elif line.startswith("event:"):
                name = line[len("event:"):].strip()
            elif line.startswith("data:"):
                data.append(line[len("data:"):].strip())
        if name is not None:
            items.append((name, json.loads("\n".join(data))))
    return items


def events(text: str) -> list[tuple[str, object]]:
    return [item for item in parse(text) if item[0] != "comment"]


def names(text: str) -> list[str]:
    return [name for name, _ in parse(text)]

"""kombu's filesystem transport (the embedded broker), made safe for several consumers.

kombu 5.7 creates a message file under its final name and only then writes it; a
consumer listing the folder in between takes the empty file and the worker dies on a
JSON error (seen in CI). It also claims files by moving them to the system temp folder,
which is a copy and a delete when that is another filesystem, so two workers may both
get the message. Here a message is written under a hidden name that matches no queue
and renamed into place when complete, and a consumer claims it by renaming it within
the broker folder: renames on one filesystem are atomic, so a message is seen whole and
taken once.
"""

import os
import uuid
from queue import Empty
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        # kombu's naming: consumers take files in sorted (= time) order
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f".partial-{uuid.uuid4()}")
        try:
            with open(partial, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc

    def _get(self, queue):
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.partition(".")[2] != f"{queue}.msg":
                continue
            claimed = os.path.join(self.processed_folder, f"{uuid.uuid4()}-{name}")
            try:
                os.rename(os.path.join(self.data_folder_in, name), claimed)
            except FileNotFoundError:
                continue  # another consumer took it
            with open(claimed, "rb") as f:
                payload = f.read()
            os.remove(claimed)
            return loads(bytes_to_str(payload))
        raise Empty()


class Transport(filesystem.Transport):
    Channel = Channel

    @property
    def default_connection_params(self) -> dict:
        # Files have no host: kombu's default of "localhost" made every connection warn
        # "No hostname was supplied".
        return {}

"""Event files written with TensorBoard's own protobufs and record writer.

Tests build their inputs with these helpers, independently of tbplateau's decoder:
the protobuf runtime serialises the Events and TensorBoard's ``RecordWriter`` frames
them, so a misreading on our side cannot be mirrored by a miswriting here.
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pytest
from tensorboard.compat.proto import (
    event_pb2,
    summary_pb2,
    tensor_pb2,
    tensor_shape_pb2,
    types_pb2,
)
from tensorboard.compat.proto.event_pb2 import Event
from tensorboard.summary.writer.record_writer import RecordWriter

from tbplateau import stats

DTYPES = {
    "float": (types_pb2.DT_FLOAT, "<f4"),
    "double": (types_pb2.DT_DOUBLE, "<f8"),
    "half": (types_pb2.DT_HALF, "<f2"),
    "bfloat16": (types_pb2.DT_BFLOAT16, None),
    "int32": (types_pb2.DT_INT32, "<i4"),
    "int64": (types_pb2.DT_INT64, "<i8"),
}


def frame(events: Iterable[Event]) -> bytes:
    """TFRecord bytes of ``events``, framed by TensorBoard's RecordWriter."""
    buf = io.BytesIO()
    writer = RecordWriter(buf)
    for ev in events:
        writer.write(ev.SerializeToString())
    return buf.getvalue()


def record_offsets(data: bytes) -> list[int]:
    """Start offset of each record in well-formed TFRecord ``data``."""
    out: list[int] = []
    p = 0
    while p < len(data):
        out.append(p)
        (length,) = struct.unpack_from("<Q", data, p)
        p += 16 + length
    return out


def write_events(path: Path, events: Iterable[Event], *, version: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    head = [file_version()] if version else []
    path.write_bytes(frame([*head, *events]))
    return path


def file_version(wall: float = 1.0) -> Event:
    return Event(wall_time=wall, file_version="brain.Event:2")


def scalar(tag: str, step: int, value: float, wall: float | None = None) -> Event:
    """A ``simple_value`` scalar, as TF1, PyTorch and tensorboardX write it."""
    ev = Event(wall_time=wall if wall is not None else 1000.0 + step, step=step)
    ev.summary.value.add(tag=tag, simple_value=value)
    return ev


def scalars_metadata() -> summary_pb2.SummaryMetadata:
    md = summary_pb2.SummaryMetadata()
    md.plugin_data.plugin_name = "scalars"
    md.data_class = summary_pb2.DATA_CLASS_SCALAR
    return md


def bf16_bits(value: float) -> int:
    (bits,) = struct.unpack("<I", struct.pack("<f", value))
    return int(bits) >> 16


def tensor_proto(value: float, dtype: str, field: str) -> tensor_pb2.TensorProto:
    """A rank-0 TensorProto holding ``value`` as ``dtype``, in ``field``."""
    dt, np_dtype = DTYPES[dtype]
    t = tensor_pb2.TensorProto(dtype=dt, tensor_shape=tensor_shape_pb2.TensorShapeProto())
    if field == "tensor_content":
        if dtype == "bfloat16":
            t.tensor_content = struct.pack("<H", bf16_bits(value))
        else:
            t.tensor_content = np.array(value, dtype=np_dtype).tobytes()
    elif field == "half_val":
        if dtype == "bfloat16":
            t.half_val.append(bf16_bits(value))
        else:
            t.half_val.append(int(np.array(value, dtype="<f2").view("<u2")))
    else:
        getattr(t, field).append(value if "int" not in field else int(value))
    return t


def tensor_scalar(
    tag: str,
    step: int,
    value: float,
    *,
    dtype: str = "float",
    field: str = "float_val",
    metadata: bool = True,
    plugin: str = "scalars",
    wall: float | None = None,
) -> Event:
    """A TF2 ``tf.summary.scalar`` event: a rank-0 tensor of the scalars plugin."""
    ev = Event(wall_time=wall if wall is not None else 1000.0 + step, step=step)
    v = ev.summary.value.add(tag=tag, tensor=tensor_proto(value, dtype, field))
    if metadata:
        v.metadata.plugin_data.plugin_name = plugin
        if plugin == "scalars":
            v.metadata.data_class = summary_pb2.DATA_CLASS_SCALAR
    return ev


def histogram(tag: str, step: int) -> Event:
    ev = Event(wall_time=1000.0 + step, step=step)
    v = ev.summary.value.add(tag=tag)
    v.histo.min = 0.0
    v.histo.max = 1.0
    v.histo.num = 3
    v.histo.bucket_limit.extend([0.5, 1.0])
    v.histo.bucket.extend([1, 2])
    return ev


def image(tag: str, step: int) -> Event:
    ev = Event(wall_time=1000.0 + step, step=step)
    v = ev.summary.value.add(tag=tag)
    v.image.height = 1
    v.image.width = 1
    v.image.colorspace = 1
    v.image.encoded_image_string = b"\x89PNG fake"
    return ev


def audio(tag: str, step: int) -> Event:
    ev = Event(wall_time=1000.0 + step, step=step)
    v = ev.summary.value.add(tag=tag)
    v.audio.sample_rate = 8000
    v.audio.encoded_audio_string = b"RIFF fake"
    return ev


def text(tag: str, step: int) -> Event:
    ev = Event(wall_time=1000.0 + step, step=step)
    t = tensor_pb2.TensorProto(
        dtype=types_pb2.DT_STRING, tensor_shape=tensor_shape_pb2.TensorShapeProto()
    )
    t.string_val.append(b"hello")
    v = ev.summary.value.add(tag=tag, tensor=t)
    v.metadata.plugin_data.plugin_name = "text"
    return ev


def tensor_histogram(tag: str, step: int) -> Event:
    """A TF2 histogram: a (k, 3) float tensor of the histograms plugin."""
    ev = Event(wall_time=1000.0 + step, step=step)
    shape = tensor_shape_pb2.TensorShapeProto()
    shape.dim.add(size=2)
    shape.dim.add(size=3)
    t = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_shape=shape)
    t.float_val.extend([0, 1, 2, 1, 2, 3])
    v = ev.summary.value.add(tag=tag, tensor=t)
    v.metadata.plugin_data.plugin_name = "histograms"
    return ev


def hparams_session(tag: str = "_hparams_/session_start_info") -> Event:
    """An hparams-plugin event: a value whose ``value`` oneof is unset."""
    ev = Event(wall_time=1000.0)
    v = ev.summary.value.add(tag=tag)
    v.metadata.plugin_data.plugin_name = "hparams"
    v.metadata.plugin_data.content = b"\x12\x00"
    return ev


def graph(step: int = 0) -> Event:
    return Event(wall_time=1000.0, step=step, graph_def=b"\x0a\x03abc" * 50)


def session_start(step: int) -> Event:
    ev = Event(wall_time=1000.0 + step, step=step)
    ev.session_log.status = event_pb2.SessionLog.START
    return ev


def curve(tag: str, steps: Iterable[int], *, seed: int = 0, tensor: bool = False) -> list[Event]:
    """A decreasing noisy loss logged at ``steps`` (simple_value, or TF2 tensors)."""
    rng = np.random.default_rng(seed)
    out = []
    for i, s in enumerate(steps):
        value = float(np.float32(1.0 / (1 + 0.05 * s) + 0.01 * rng.standard_normal()))
        if tensor:
            out.append(tensor_scalar(tag, s, value, metadata=i == 0))
        else:
            out.append(scalar(tag, s, value))
    return out


def compiled_kernels() -> stats._Kernels:
    """The compiled kernels module (the test is skipped where it is not built, unless
    ``TBPLATEAU_REQUIRE_C=1`` says it must be)."""
    try:
        from tbplateau import _kernels
    except ImportError:  # pragma: no cover - depends on the build
        if os.environ.get("TBPLATEAU_REQUIRE_C") == "1":
            raise
        pytest.skip("the compiled kernels are not built")
    return _kernels

"""iris's advertised example as the bodies of its three protocols, for the bench scripts.

Usage: python3 bench/iris_bodies.py DIR, with DIR/iris.json holding GET /iris. Writes
DIR/native.json (the native body as advertised), DIR/v2.json (its one instance, in the model's
feature order, as a [1, 4] FP32 tensor asking for the label output only) and DIR/grpc.bin (the
same as a ModelInferRequest, encoded by hand: model_name 1, inputs 5 {name 1, datatype 2,
shape 3, contents 5 {fp32_contents 6}}, outputs 6 {name 1}; then the gRPC frame: a zero byte
and the big-endian length).
"""
import json, struct, sys
out = sys.argv[1]
advertised = json.load(open(f"{out}/iris.json"))
json.dump(advertised["example"], open(f"{out}/native.json", "w"))
body = advertised["example"]
instance = body["payload"] if "payload" in body else body["instances"][0]
if isinstance(instance, list) and instance and isinstance(instance[0], list):
    instance = instance[0]
if isinstance(instance, dict):
    # keyed by feature name: the tensor's columns are in the input schema's feature order
    keyed = next(o for o in advertised["input_schema"]["oneOf"] if o.get("type") == "object")
    instance = [instance[name] for name in keyed["properties"]]
values = [float(v) for v in instance]
json.dump({"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, len(values)], "data": values}],
           "outputs": [{"name": "label"}]}, open(f"{out}/v2.json", "w"))

def varint(n):
    b = bytearray()
    while True:
        low = n & 0x7f
        n >>= 7
        b.append(low | (0x80 if n else 0))
        if not n:
            return bytes(b)

def field(number, wire, payload):
    key = varint(number << 3 | wire)
    return key + (varint(len(payload)) + payload if wire == 2 else payload)

floats = b"".join(struct.pack("<f", v) for v in values)
contents = field(6, 2, floats)
shape = field(3, 2, varint(1) + varint(len(values)))
tensor = field(1, 2, b"input") + field(2, 2, b"FP32") + shape + field(5, 2, contents)
message = field(1, 2, b"iris") + field(5, 2, tensor) + field(6, 2, field(1, 2, b"label"))
open(f"{out}/grpc.bin", "wb").write(b"\0" + struct.pack(">I", len(message)) + message)

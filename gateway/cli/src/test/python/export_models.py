#!/usr/bin/python3
"""Writes ONNX models shaped like real exports, for the bring-your-own-model tests.

Run with Debian's python3 (python3-onnx 1.12, python3-sklearn):

    /usr/bin/python3 export_models.py OUT_DIR [ENCODER.onnx TOKENIZER.json SENTIMENT_HEAD.onnx]

Each model is trained with scikit-learn on one of its bundled data sets and written with
onnx.helper in the shape skl2onnx / onnxmltools / optimum give (skl2onnx itself is not
installable here). Beside each model.onnx, heldout.json holds held-out instances with
scikit-learn's own label and probabilities, which the tests compare the served answers with.

  OUT_DIR/iris-zipmap     LinearClassifier, string labels, output_label + ZipMap output_probability
  OUT_DIR/wine-trees      TreeEnsembleClassifier (random forest), int64 labels, ZipMap
  OUT_DIR/cancer-tensors  zipmap=False: label tensor + probabilities tensor, Scaler in front
  OUT_DIR/wine-columns    one input per column: float, int64 and string columns, ZipMap int64
  OUT_DIR/sentiment-logits  (with the encoder arguments) optimum-style text classifier:
                          input_ids, attention_mask, token_type_ids -> logits, with tokenizer.json
                          and config.json (id2label)
  OUT_DIR/hostile-*       models every check must refuse
"""
import json
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

ML = "ai.onnx.ml"
OPSETS = [helper.make_opsetid("", 13), helper.make_opsetid(ML, 1)]


def zipmap_type(key_type):
    """seq(map(key_type, float)): onnx 1.12 has no make_map_type_proto."""
    t = onnx.TypeProto()
    m = t.sequence_type.elem_type.map_type
    m.key_type = key_type
    m.value_type.tensor_type.elem_type = TensorProto.FLOAT
    return t


def value_info(name, type_proto):
    v = onnx.ValueInfoProto()
    v.name = name
    v.type.CopyFrom(type_proto)
    return v


def save(model_dir, graph, metadata=None, opsets=OPSETS):
    os.makedirs(model_dir, exist_ok=True)
    model = helper.make_model(graph, opset_imports=opsets, producer_name="skl2onnx-shaped")
    model.ir_version = 8
    for key, value in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(model_dir, "model.onnx"))


def write_heldout(model_dir, rows, labels, probabilities, class_labels, instances):
    out = []
    for i in range(len(rows)):
        out.append({
            "instance": instances[i],
            "label": str(labels[i]),
            "probabilities": [float(p) for p in probabilities[i]],
        })
    with open(os.path.join(model_dir, "heldout.json"), "w") as f:
        json.dump({"classes": [str(c) for c in class_labels], "rows": out}, f, indent=1)


def classifier_outputs(nodes, label_type, key_type, classes_attr, classes, zipmap=True):
    """skl2onnx's tail: label -> output_label, probabilities -> ZipMap output_probability."""
    if not zipmap:
        return [helper.make_tensor_value_info("label", label_type, [None]),
                helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, len(classes)])]
    nodes.append(helper.make_node("Identity", ["label"], ["output_label"]))
    nodes.append(helper.make_node("ZipMap", ["probabilities"], ["output_probability"], domain=ML,
                                  **{classes_attr: classes}))
    return [helper.make_tensor_value_info("output_label", label_type, [None]),
            value_info("output_probability", zipmap_type(key_type))]


def iris_zipmap(out):
    data = load_iris()
    names = [str(n) for n in data.target_names]
    y = np.array([names[t] for t in data.target])
    x_train, x_test, y_train, y_test = train_test_split(
        data.data.astype(np.float32), y, test_size=0.3, random_state=7, stratify=y)
    model = LogisticRegression(max_iter=1000).fit(x_train, y_train)
    nodes = [helper.make_node(
        "LinearClassifier", ["float_input"], ["label", "probabilities"], domain=ML,
        coefficients=model.coef_.astype(np.float32).ravel().tolist(),
        intercepts=model.intercept_.astype(np.float32).tolist(),
        classlabels_strings=[str(c) for c in model.classes_], multi_class=1, post_transform="SOFTMAX")]
    outputs = classifier_outputs(nodes, TensorProto.STRING, TensorProto.STRING, "classlabels_strings",
                                 [str(c) for c in model.classes_])
    graph = helper.make_graph(nodes, "LogisticRegression",
                              [helper.make_tensor_value_info("float_input", TensorProto.FLOAT, [None, 4])], outputs)
    path = os.path.join(out, "iris-zipmap")
    save(path, graph)
    write_heldout(path, x_test, model.predict(x_test), model.predict_proba(x_test), model.classes_,
                  [[float(v) for v in row] for row in x_test])


def leq_threshold(t):
    """A float32 threshold t32 with x <= t32 exactly when x <= t, for every float32 x."""
    t32 = np.float32(t)
    return float(np.nextafter(t32, np.float32(-np.inf)) if t32 > t else t32)


def tree_ensemble_nodes(forest, input_name, classes):
    attrs = {k: [] for k in ("nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_values",
                             "nodes_modes", "nodes_truenodeids", "nodes_falsenodeids",
                             "nodes_missing_value_tracks_true", "nodes_hitrates",
                             "class_treeids", "class_nodeids", "class_ids", "class_weights")}
    n_trees = len(forest.estimators_)
    for t, estimator in enumerate(forest.estimators_):
        tree = estimator.tree_
        for node in range(tree.node_count):
            leaf = tree.children_left[node] == -1
            attrs["nodes_treeids"].append(t)
            attrs["nodes_nodeids"].append(node)
            attrs["nodes_featureids"].append(0 if leaf else int(tree.feature[node]))
            attrs["nodes_values"].append(0.0 if leaf else leq_threshold(tree.threshold[node]))
            attrs["nodes_modes"].append("LEAF" if leaf else "BRANCH_LEQ")
            attrs["nodes_truenodeids"].append(0 if leaf else int(tree.children_left[node]))
            attrs["nodes_falsenodeids"].append(0 if leaf else int(tree.children_right[node]))
            attrs["nodes_missing_value_tracks_true"].append(0)
            attrs["nodes_hitrates"].append(1.0)
            if leaf:
                value = tree.value[node][0]
                fractions = value / value.sum()
                for c in range(len(classes)):
                    attrs["class_treeids"].append(t)
                    attrs["class_nodeids"].append(node)
                    attrs["class_ids"].append(c)
                    attrs["class_weights"].append(float(fractions[c] / n_trees))
    return helper.make_node("TreeEnsembleClassifier", [input_name], ["label", "probabilities"], domain=ML,
                            classlabels_int64s=[int(c) for c in classes], post_transform="NONE", **attrs)


def wine_trees(out):
    data = load_wine()
    x_train, x_test, y_train, y_test = train_test_split(
        data.data.astype(np.float32), data.target, test_size=0.3, random_state=7, stratify=data.target)
    forest = RandomForestClassifier(n_estimators=25, max_depth=5, random_state=7).fit(x_train, y_train)
    classes = [int(c) for c in forest.classes_]
    nodes = [tree_ensemble_nodes(forest, "input", classes)]
    outputs = classifier_outputs(nodes, TensorProto.INT64, TensorProto.INT64, "classlabels_int64s", classes)
    graph = helper.make_graph(nodes, "RandomForestClassifier",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 13])], outputs)
    path = os.path.join(out, "wine-trees")
    save(path, graph)
    write_heldout(path, x_test, forest.predict(x_test), forest.predict_proba(x_test), classes,
                  [[float(v) for v in row] for row in x_test])


def cancer_tensors(out):
    data = load_breast_cancer()
    x_train, x_test, y_train, y_test = train_test_split(
        data.data.astype(np.float32), data.target, test_size=0.3, random_state=7, stratify=data.target)
    scaler = StandardScaler().fit(x_train)
    model = LogisticRegression(max_iter=5000).fit(scaler.transform(x_train), y_train)
    width = x_train.shape[1]
    # binary logistic regression as softmax over [0, z]: [1 - sigmoid(z), sigmoid(z)]
    coefficients = np.concatenate([np.zeros(width), model.coef_[0]]).astype(np.float32)
    nodes = [
        helper.make_node("Scaler", ["input"], ["scaled"], domain=ML,
                         offset=scaler.mean_.astype(np.float32).tolist(),
                         scale=(1.0 / scaler.scale_).astype(np.float32).tolist()),
        helper.make_node("LinearClassifier", ["scaled"], ["label", "probabilities"], domain=ML,
                         coefficients=coefficients.tolist(), intercepts=[0.0, float(model.intercept_[0])],
                         classlabels_ints=[0, 1], post_transform="SOFTMAX"),
    ]
    outputs = classifier_outputs(nodes, TensorProto.INT64, TensorProto.INT64, "classlabels_int64s", [0, 1],
                                 zipmap=False)
    graph = helper.make_graph(nodes, "LogisticRegression",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, width])], outputs)
    path = os.path.join(out, "cancer-tensors")
    save(path, graph, {"feature_names": json.dumps([str(n) for n in data.feature_names])})
    x = scaler.transform(x_test)
    instances = [{str(n): float(v) for n, v in zip(data.feature_names, row)} for row in x_test]
    write_heldout(path, x_test, model.predict(x), model.predict_proba(x), [0, 1], instances)


WINE_FLOATS = ["alcohol", "malic_acid"]
WINE_INTS = ["magnesium", "proline"]
BANDS = ["dark", "light", "medium"]


def colour_band(intensity):
    return "light" if intensity < 3.5 else "medium" if intensity < 6.5 else "dark"


def wine_columns(out):
    data = load_wine()
    names = list(data.feature_names)
    floats = data.data[:, [names.index(n) for n in WINE_FLOATS]].astype(np.float32)
    ints = np.rint(data.data[:, [names.index(n) for n in WINE_INTS]]).astype(np.int64)
    bands = np.array([colour_band(v) for v in data.data[:, names.index("color_intensity")]])
    index = np.arange(len(data.target))
    train, test = train_test_split(index, test_size=0.3, random_state=7, stratify=data.target)
    numeric = np.concatenate([floats, ints.astype(np.float32)], axis=1)
    onehot = (bands[:, None] == np.array(BANDS)[None, :]).astype(np.float32)
    scaler = StandardScaler().fit(numeric[train])
    features = np.concatenate([scaler.transform(numeric).astype(np.float32), onehot], axis=1)
    model = LogisticRegression(max_iter=2000).fit(features[train], data.target[train])
    classes = [int(c) for c in model.classes_]
    inputs = ([helper.make_tensor_value_info(n, TensorProto.FLOAT, [None, 1]) for n in WINE_FLOATS]
              + [helper.make_tensor_value_info(n, TensorProto.INT64, [None, 1]) for n in WINE_INTS]
              + [helper.make_tensor_value_info("colour_band", TensorProto.STRING, [None, 1])])
    nodes = [helper.make_node("Cast", [n], [n + "_float"], to=TensorProto.FLOAT) for n in WINE_INTS]
    nodes += [
        helper.make_node("Concat", WINE_FLOATS + [n + "_float" for n in WINE_INTS], ["numeric"], axis=1),
        helper.make_node("Scaler", ["numeric"], ["scaled"], domain=ML,
                         offset=scaler.mean_.astype(np.float32).tolist(),
                         scale=(1.0 / scaler.scale_).astype(np.float32).tolist()),
        helper.make_node("OneHotEncoder", ["colour_band"], ["onehot3"], domain=ML, cats_strings=BANDS, zeros=1),
        helper.make_node("Reshape", ["onehot3", "onehot_shape"], ["onehot"]),
        helper.make_node("Concat", ["scaled", "onehot"], ["features"], axis=1),
        helper.make_node("LinearClassifier", ["features"], ["label", "probabilities"], domain=ML,
                         coefficients=model.coef_.astype(np.float32).ravel().tolist(),
                         intercepts=model.intercept_.astype(np.float32).tolist(),
                         classlabels_ints=classes, multi_class=1, post_transform="SOFTMAX"),
    ]
    outputs = classifier_outputs(nodes, TensorProto.INT64, TensorProto.INT64, "classlabels_int64s", classes)
    shape = numpy_helper.from_array(np.array([-1, len(BANDS)], dtype=np.int64), "onehot_shape")
    graph = helper.make_graph(nodes, "ColumnTransformerLogisticRegression", inputs, outputs, [shape])
    path = os.path.join(out, "wine-columns")
    save(path, graph)
    instances = []
    for i in test:
        instance = {n: float(floats[i, k]) for k, n in enumerate(WINE_FLOATS)}
        instance.update({n: int(ints[i, k]) for k, n in enumerate(WINE_INTS)})
        instance["colour_band"] = str(bands[i])
        instances.append(instance)
    write_heldout(path, features[test], model.predict(features[test]), model.predict_proba(features[test]),
                  classes, instances)


def sentiment_logits(out, encoder_path, tokenizer_path, head_path):
    """The MiniLM encoder with masked mean pooling, L2 normalisation and the sentiment head
    appended in the graph: what optimum exports for a sequence classifier (output logits)."""
    encoder = onnx.load(encoder_path)
    head = onnx.load(head_path)
    weights = {t.name: numpy_helper.to_array(t) for t in head.graph.initializer}
    graph = encoder.graph
    hidden = graph.output[0].name
    graph.initializer.extend([
        numpy_helper.from_array(weights["coef"].astype(np.float32), "head_coef"),
        numpy_helper.from_array(weights["intercept"].astype(np.float32), "head_intercept"),
        numpy_helper.from_array(np.array(1e-9, dtype=np.float32), "pool_eps"),
        numpy_helper.from_array(np.array(1e-12, dtype=np.float32), "norm_eps"),
    ])
    graph.node.extend([  # opset 11, as the encoder: axes are attributes
        helper.make_node("Cast", ["attention_mask"], ["mask_float"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["mask_float"], ["mask_3d"], axes=[2]),
        helper.make_node("Mul", [hidden, "mask_3d"], ["masked"]),
        helper.make_node("ReduceSum", ["masked"], ["summed"], axes=[1], keepdims=0),
        helper.make_node("ReduceSum", ["mask_3d"], ["counted"], axes=[1], keepdims=0),
        helper.make_node("Max", ["counted", "pool_eps"], ["count"]),
        helper.make_node("Div", ["summed", "count"], ["pooled"]),
        helper.make_node("ReduceL2", ["pooled"], ["norm"], axes=[1], keepdims=1),
        helper.make_node("Max", ["norm", "norm_eps"], ["safe_norm"]),
        helper.make_node("Div", ["pooled", "safe_norm"], ["embedding"]),
        helper.make_node("MatMul", ["embedding", "head_coef"], ["product"]),
        helper.make_node("Add", ["product", "head_intercept"], ["logits"]),
    ])
    del graph.output[:]
    graph.output.append(helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch_size", 2]))
    path = os.path.join(out, "sentiment-logits")
    os.makedirs(path, exist_ok=True)
    onnx.save(encoder, os.path.join(path, "model.onnx"))
    shutil.copyfile(tokenizer_path, os.path.join(path, "tokenizer.json"))
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump({"architectures": ["BertForSequenceClassification"], "model_type": "bert",
                   "id2label": {"0": "negative", "1": "positive"}, "label2id": {"negative": 0, "positive": 1},
                   "max_position_embeddings": 512}, f, indent=2)
    # hostile: the same model with a tokenizer.json that is not one
    bad = os.path.join(out, "hostile-tokenizer")
    os.makedirs(bad, exist_ok=True)
    shutil.copyfile(os.path.join(path, "model.onnx"), os.path.join(bad, "model.onnx"))
    shutil.copyfile(os.path.join(path, "config.json"), os.path.join(bad, "config.json"))
    with open(os.path.join(bad, "tokenizer.json"), "w") as f:
        json.dump({"vocab": ["this", "is", "not", "a", "tokenizer"]}, f)


def probability_model(name, input_type, input_shape, body, out, output_shape=(None, 3), output_name="probabilities",
                      initializers=()):
    labels = json.dumps(["setosa", "versicolor", "virginica"])
    graph = helper.make_graph(body, name, [helper.make_tensor_value_info("features", input_type, list(input_shape))],
                              [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, list(output_shape))],
                              list(initializers))
    save(os.path.join(out, name), graph, {"labels": labels}, opsets=[helper.make_opsetid("", 13)])


def hostile(out):
    # an input of rank 3 where a classifier takes a matrix of rows
    probability_model("hostile-rank", TensorProto.FLOAT, [None, 4, 1],
                      [helper.make_node("Flatten", ["features"], ["s"], axis=1),
                       helper.make_node("Softmax", ["s"], ["probabilities"])], out, output_shape=(None, 4))
    # float16 input
    probability_model("hostile-float16", TensorProto.FLOAT16, [None, 3],
                      [helper.make_node("Cast", ["features"], ["f"], to=TensorProto.FLOAT),
                       helper.make_node("Softmax", ["f"], ["probabilities"])], out)
    # a regressor's output: one number per row, no class probabilities
    probability_model("hostile-regressor", TensorProto.FLOAT, [None, 4],
                      [helper.make_node("ReduceSum", ["features", "axes"], ["variable"], keepdims=0)], out,
                      output_shape=(None,), output_name="variable",
                      initializers=[numpy_helper.from_array(np.array([1], dtype=np.int64), "axes")])
    # a model that loads but fails inside ONNX Runtime when run: 4 values cannot be rows of 3
    probability_model("hostile-runtime", TensorProto.FLOAT, [None, 4],
                      [helper.make_node("Reshape", ["features", "shape"], ["r"]),
                       helper.make_node("Softmax", ["r"], ["probabilities"])], out,
                      initializers=[numpy_helper.from_array(np.array([-1, 3], dtype=np.int64), "shape")])


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    iris_zipmap(out)
    wine_trees(out)
    cancer_tensors(out)
    wine_columns(out)
    hostile(out)
    if len(sys.argv) >= 5:
        sentiment_logits(out, sys.argv[2], sys.argv[3], sys.argv[4])
    print("models written to", out)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Trains a tabular classifier on a data set shipped with Debian's python3-sklearn and writes
it as an ONNX graph (standardise -> linear -> softmax) with its labels and feature names in the
model metadata, a held-out split, and the model card figures in the plugin's mlserver.yaml.

    /usr/bin/python3 plugins/training/train_tabular.py iris plugins/iris

Needs only Debian packages: python3-sklearn and python3-onnx. Deterministic: the same command
gives the same model and the same figures.
"""
import csv
import datetime
import json
import pathlib
import re
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn import datasets
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

LOADERS = {
    "iris": datasets.load_iris,
    "wine": datasets.load_wine,
    "breast_cancer": datasets.load_breast_cancer,
}
SEED = 42


def feature_name(name):
    return re.sub(r"[^a-z0-9]+", "_", name.lower().replace("(cm)", "")).strip("_")


def export(scaler, model, features, labels, path):
    n = len(features)
    coef = model.coef_.astype(np.float32)
    intercept = model.intercept_.astype(np.float32)
    if coef.shape[0] == 1:  # binary: sklearn keeps one row; make both logits explicit
        coef = np.vstack([-coef / 2, coef / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2], dtype=np.float32)
    inits = [
        numpy_helper.from_array(scaler.mean_.astype(np.float32), "mean"),
        numpy_helper.from_array(scaler.scale_.astype(np.float32), "scale"),
        numpy_helper.from_array(coef.T.copy(), "coef"),
        numpy_helper.from_array(intercept, "intercept"),
    ]
    nodes = [
        helper.make_node("Sub", ["features", "mean"], ["centred"]),
        helper.make_node("Div", ["centred", "scale"], ["scaled"]),
        helper.make_node("MatMul", ["scaled", "coef"], ["product"]),
        helper.make_node("Add", ["product", "intercept"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
    ]
    graph = helper.make_graph(
        nodes, "tabular_logistic_regression",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", n])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", len(labels)])],
        inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="mlserver-train")
    m.ir_version = 7
    helper.set_model_props(m, {"labels": json.dumps(labels), "feature_names": json.dumps(features)})
    onnx.checker.check_model(m)
    onnx.save(m, str(path))


def main(name, plugin_dir):
    plugin_dir = pathlib.Path(plugin_dir)
    data = LOADERS[name]()
    features = [feature_name(f) for f in data.feature_names]
    labels = [str(t) for t in data.target_names]
    x_train, x_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.3, random_state=SEED, stratify=data.target)
    scaler = StandardScaler().fit(x_train)
    model = LogisticRegression(max_iter=1000, random_state=SEED).fit(scaler.transform(x_train), y_train)
    predicted = model.predict(scaler.transform(x_test))
    accuracy = accuracy_score(y_test, predicted)
    macro_f1 = f1_score(y_test, predicted, average="macro")

    (plugin_dir / "artifacts").mkdir(parents=True, exist_ok=True)
    export(scaler, model, features, labels, plugin_dir / "artifacts" / "model.onnx")
    with open(plugin_dir / "heldout.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(features + ["label"])
        for row, label in zip(x_test, y_test):
            w.writerow([repr(float(v)) for v in row] + [labels[label]])

    card = plugin_dir / "mlserver.yaml"
    text = card.read_text()
    trained_at = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    text = re.sub(r"(?m)^trained_at:.*$", f'trained_at: "{trained_at}"', text)
    text = re.sub(r"(?m)^  accuracy:.*$", f"  accuracy: {accuracy:.4f}", text)
    text = re.sub(r"(?m)^  macro_f1:.*$", f"  macro_f1: {macro_f1:.4f}", text)
    text = re.sub(r"(?m)^  heldout_rows:.*$", f"  heldout_rows: {len(y_test)}", text)
    card.write_text(text)
    print(json.dumps({"dataset": name, "accuracy": accuracy, "macro_f1": macro_f1, "heldout_rows": len(y_test)}))


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in LOADERS:
        sys.exit(f"usage: train_tabular.py {{{'|'.join(LOADERS)}}} PLUGIN_DIR")
    main(sys.argv[1], sys.argv[2])

#!/usr/bin/python3
"""Trains the two heads that sit on the pretrained all-MiniLM-L6-v2 sentence encoder, on the UCI
Sentiment Labelled Sentences (Amazon, IMDB and Yelp reviews; Kotzias et al., KDD 2015):

  sentiment  negative / positive            (the sentence's label)
  topic      product / movie / restaurant   (which review site the sentence comes from)

Duplicates are removed before one stratified 80/20 split (seed 42) shared by both heads. The
sentences are embedded by the plugins' own Java code (EmbedTexts: Java tokenizer, one sentence per
encoder run), then each head is a scikit-learn logistic regression, its C chosen by 5-fold cross
validation on the training part only, written as a small ONNX graph (MatMul, Add, Softmax) with
its labels in the metadata. Writes each plugin's artifacts/head.onnx, heldout.jsonl and the
figures in its mlserver.yaml.

    cd "$(mktemp -d)" && npm pack sentiment@5.0.2 && tar xzf sentiment-5.0.2.tgz && cd -
    /usr/bin/python3 plugins/training/train_minilm_heads.py "$OLDPWD/package"   # from the repository root

Needs python3-sklearn, python3-onnx, Maven and Java 17 (the embedding step runs
`mvn -pl plugins/shared -am process-test-classes -Pembed`). Deterministic.
"""
import datetime
import json
import pathlib
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split

SEED = 42
ROOT = pathlib.Path(__file__).resolve().parents[2]
SOURCES = {"amazon": "product", "imdb": "movie", "yelp": "restaurant"}
TASKS = {
    "sentiment": {"labels": ["negative", "positive"], "label": lambda s: ["negative", "positive"][s["class"]]},
    "topic": {"labels": ["product", "movie", "restaurant"], "label": lambda s: s["topic"]},
}


def load(package_dir):
    by_text = {}
    for source, topic in SOURCES.items():
        for item in json.load(open(pathlib.Path(package_dir, "test", "fixtures", source + ".json"), encoding="utf-8")):
            text = item["text"].strip()
            key = (item["class"], topic)
            if text in by_text and by_text[text] != key:
                by_text[text] = None  # the same sentence with two labels: drop it
            else:
                by_text.setdefault(text, key)
    return [{"text": t, "class": k[0], "topic": k[1]} for t, k in by_text.items() if k is not None]


def embed(texts, work):
    texts_file, out_file = work / "texts.jsonl", work / "embeddings.f32"
    with open(texts_file, "w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps(t, ensure_ascii=False) + "\n")
    subprocess.run(["mvn", "-q", "-B", "-pl", "plugins/shared", "-am", "process-test-classes", "-Pembed",
                    f"-Dembed.in={texts_file}", f"-Dembed.out={out_file}"], cwd=ROOT, check=True)
    return np.fromfile(out_file, dtype="<f4").reshape(len(texts), -1)


def export(model, labels, dim, path):
    coef = model.coef_.astype(np.float32)
    intercept = model.intercept_.astype(np.float32)
    if coef.shape[0] == 1:  # binary: both logits explicit, so softmax gives predict_proba
        coef = np.vstack([-coef / 2, coef / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2], dtype=np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["embedding", "coef"], ["product"]),
         helper.make_node("Add", ["product", "intercept"], ["logits"]),
         helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1)],
        "minilm_logistic_head",
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", dim])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", len(labels)])],
        [numpy_helper.from_array(coef.T.copy(), "coef"), numpy_helper.from_array(intercept, "intercept")])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="mlserver-train")
    m.ir_version = 7
    helper.set_model_props(m, {"labels": json.dumps(labels)})
    onnx.checker.check_model(m)
    onnx.save(m, str(path))


def update_card(card, figures):
    text = card.read_text()
    for key, value in figures.items():
        text = re.sub(rf"(?m)^(\s*){key}:.*$", lambda m: f"{m.group(1)}{key}: {value}", text, count=1)
    card.write_text(text)


def main(package_dir):
    sentences = load(package_dir)
    strata = [f"{s['class']}-{s['topic']}" for s in sentences]
    train, test = train_test_split(sentences, test_size=0.2, random_state=SEED, stratify=strata)
    with tempfile.TemporaryDirectory() as tmp:
        vectors = embed([s["text"] for s in train + test], pathlib.Path(tmp))
    x_train, x_test = vectors[:len(train)], vectors[len(train):]
    trained_at = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")

    for task, spec in TASKS.items():
        labels = spec["labels"]
        y_train = np.array([labels.index(spec["label"](s)) for s in train])
        y_test = np.array([labels.index(spec["label"](s)) for s in test])
        search = GridSearchCV(LogisticRegression(max_iter=5000, random_state=SEED),
                              {"C": [0.1, 0.3, 1.0, 3.0, 10.0, 30.0]},
                              cv=StratifiedKFold(5, shuffle=True, random_state=SEED), scoring="accuracy")
        search.fit(x_train, y_train)
        model = search.best_estimator_
        predicted = model.predict(x_test)
        accuracy = accuracy_score(y_test, predicted)
        macro_f1 = f1_score(y_test, predicted, average="macro")

        plugin = ROOT / "plugins" / task
        (plugin / "artifacts").mkdir(parents=True, exist_ok=True)
        export(model, labels, x_train.shape[1], plugin / "artifacts" / "head.onnx")
        with open(plugin / "heldout.jsonl", "w", encoding="utf-8") as f:
            for s, y in zip(test, y_test):
                f.write(json.dumps({"text": s["text"], "label": labels[y]}, ensure_ascii=False) + "\n")
        update_card(plugin / "mlserver.yaml", {
            "trained_at": f'"{trained_at}"', "accuracy": f"{accuracy:.4f}", "macro_f1": f"{macro_f1:.4f}",
            "heldout_rows": str(len(y_test)), "unique_sentences": str(len(sentences)),
            "regularisation_c": str(search.best_params_["C"])})
        print(json.dumps({"task": task, "unique": len(sentences), "train": len(train), "heldout": len(test),
                          "C": search.best_params_["C"], "cv_accuracy": search.best_score_,
                          "accuracy": accuracy, "macro_f1": macro_f1}))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: train_minilm_heads.py NPM_SENTIMENT_PACKAGE_DIR")
    main(sys.argv[1])

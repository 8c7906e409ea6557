#!/usr/bin/python3
"""Trains the starter text model that `ml_server init --text` puts into a new classifier.

Data: UCI Sentiment Labelled Sentences (Kotzias et al., KDD 2015; CC BY 4.0), 3,000 sentences
from Amazon, IMDB and Yelp reviews, as shipped by the npm package sentiment@5.0.2:

    cd /tmp && npm pack sentiment@5.0.2 && tar xzf sentiment-5.0.2.tgz
    /usr/bin/python3 gateway/scaffold/train_text_starter.py /tmp/package/test/fixtures \
        gateway/src/main/resources/scaffold/text/model.onnx

Needs Debian's python3-sklearn and python3-onnx. The whole pipeline is inside the ONNX graph:
Tokenizer ([a-z0-9]+) -> TfIdfVectorizer (word 1- and 2-grams, idf weights) -> MatMul/Add ->
Softmax, so the plugin hands the model a lower-cased string. Labels are stored in the model's
metadata. Prints the held-out accuracy that goes into the scaffold's mlserver.yaml.
"""
import json
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split

TOKEN = r"[a-z0-9]+"
LABELS = ["negative", "positive"]


def load(fixtures):
    seen, texts, labels = set(), [], []
    for name in ("amazon", "imdb", "yelp"):
        with open(f"{fixtures}/{name}.json", encoding="utf-8") as f:
            for row in json.load(f):
                text = row["text"].strip().lower()
                if text and text not in seen:
                    seen.add(text)
                    texts.append(text)
                    labels.append(int(row["class"]))
    return texts, np.array(labels)


def main(fixtures, out):
    texts, y = load(fixtures)
    train_x, test_x, train_y, test_y = train_test_split(texts, y, test_size=0.2, random_state=42, stratify=y)
    vectorizer = TfidfVectorizer(token_pattern=TOKEN, lowercase=False, ngram_range=(1, 2), min_df=2, norm=None)
    features = vectorizer.fit_transform(train_x)
    model = LogisticRegression(C=1.0, max_iter=2000).fit(features, train_y)
    predicted = model.predict(vectorizer.transform(test_x))
    accuracy = accuracy_score(test_y, predicted)
    macro_f1 = f1_score(test_y, predicted, average="macro")

    vocabulary = sorted(vectorizer.vocabulary_.items(), key=lambda kv: kv[1])
    unigrams = [(t, i) for t, i in vocabulary if " " not in t]
    bigrams = [(t, i) for t, i in vocabulary if " " in t]
    pool = [t for t, _ in unigrams] + [w for t, _ in bigrams for w in t.split(" ")]
    indexes = [i for _, i in unigrams] + [i for _, i in bigrams]
    size = len(vocabulary)

    coef = model.coef_[0].astype(np.float32)
    weights = np.zeros((size, 2), dtype=np.float32)
    weights[:, 1] = coef
    bias = np.array([0.0, model.intercept_[0]], dtype=np.float32)

    nodes = [
        helper.make_node("Tokenizer", ["text"], ["tokens"], domain="com.microsoft", mark=0, mincharnum=1,
                         pad_value="#", tokenexp=TOKEN),
        helper.make_node("TfIdfVectorizer", ["tokens"], ["tfidf"], mode="TFIDF", min_gram_length=1,
                         max_gram_length=2, max_skip_count=0, ngram_counts=[0, len(unigrams)],
                         ngram_indexes=indexes, pool_strings=pool,
                         weights=vectorizer.idf_.astype(np.float32).tolist()),
        helper.make_node("MatMul", ["tfidf", "weights"], ["product"]),
        helper.make_node("Add", ["product", "bias"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
    ]
    graph = helper.make_graph(
        nodes, "starter-sentiment",
        [helper.make_tensor_value_info("text", TensorProto.STRING, ["n"])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["n", 2])],
        initializer=[helper.make_tensor("weights", TensorProto.FLOAT, weights.shape, weights.flatten()),
                     helper.make_tensor("bias", TensorProto.FLOAT, bias.shape, bias)])
    onnx_model = helper.make_model(graph, producer_name="mlserver-scaffold",
                                   opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.microsoft", 1)])
    onnx_model.ir_version = 8
    helper.set_model_props(onnx_model, {"labels": json.dumps(LABELS)})
    onnx.checker.check_model(onnx_model)
    onnx.save(onnx_model, out)

    print(json.dumps({"vocabulary": size, "train": len(train_x), "heldout": len(test_x),
                      "accuracy": round(accuracy, 4), "macro_f1": round(macro_f1, 4)}))
    for sentence in ("i love this phone, great value", "terrible service, never again"):
        p = model.predict_proba(vectorizer.transform([sentence]))[0]
        print(json.dumps({"text": sentence, "positive": round(float(p[1]), 6)}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

package dev.mlserver.api.generic;

import java.util.List;

/** How the generic classifier feeds a model and reads its answer, decided once from its signature. */
sealed interface Plan {
    List<String> labels();

    /** Where the probabilities come from. */
    enum Output { PROBABILITIES, LOGITS, ZIPMAP }

    /**
     * One model input fed from instance features.
     *
     * @param features the feature names it takes, in column order (one for a per-column input)
     * @param rank 1 for {@code [batch]}, 2 for {@code [batch, columns]}
     */
    record Column(String input, String type, List<String> features, int rank) {
        public Column {
            features = List.copyOf(features);
        }
    }

    /**
     * Tabular rows.
     *
     * @param columns the model's inputs, in declaration order
     * @param featureNames every feature, in the order an array instance gives them
     * @param classKeys the ZipMap keys in label order (empty for a tensor output)
     * @param intKeys whether the ZipMap keys are int64
     */
    record Tabular(List<Column> columns, List<String> featureNames, String output, Output kind,
                   List<String> classKeys, boolean intKeys, List<String> labels) implements Plan {
        public Tabular {
            columns = List.copyOf(columns);
            featureNames = List.copyOf(featureNames);
            classKeys = List.copyOf(classKeys);
            labels = List.copyOf(labels);
        }
    }

    /**
     * A transformers sequence classifier.
     *
     * @param mask the attention mask input, empty when the model has none
     * @param typeIds the token type ids input, empty when the model has none
     */
    record Text(String ids, String mask, String typeIds, String output, List<String> labels, int maxLength)
            implements Plan {
        public Text {
            labels = List.copyOf(labels);
        }
    }
}

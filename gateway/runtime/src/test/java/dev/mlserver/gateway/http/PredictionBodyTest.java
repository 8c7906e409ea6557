package dev.mlserver.gateway.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlserver.gateway.testing.TestGateway;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** How the prediction body is written, byte for byte, against the reactor-built iris plugin. */
class PredictionBodyTest {
    private static final Pattern PROBABILITY = Pattern.compile("\"(\\w+)\":(-?[0-9][0-9.Ee+-]*)");

    static TestGateway gateway;

    @BeforeAll
    static void start() {
        gateway = TestGateway.start(TestGateway.examplePlugins());
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    @Test
    void probabilitiesAreWrittenInTheirShortestFloatFormInLabelOrder() {
        HttpResponse<String> response = gateway.post("/iris/predict_proba",
                "{\"payload\": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}");
        assertThat(response.statusCode()).isEqualTo(200);
        String predictions = response.body().substring(0, response.body().indexOf(",\"metadata\""));
        assertThat(predictions).startsWith("{\"predictions\":[{\"setosa\":");
        Matcher m = PROBABILITY.matcher(predictions);
        int count = 0;
        while (m.find()) {
            String written = m.group(2);
            // the float32 the model gave, written as Float.toString writes it: 0.9498, not 0.9497998952865601
            assertThat(written).isEqualTo(Float.toString(Float.parseFloat(written)));
            assertThat(List.of("setosa", "versicolor", "virginica").get(count % 3)).isEqualTo(m.group(1));
            count++;
        }
        assertThat(count).isEqualTo(6);
    }

    @Test
    void labelsAreWrittenAsStrings() {
        HttpResponse<String> response = gateway.post("/iris/predict", "{\"payload\": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}");
        assertThat(response.body()).startsWith("{\"predictions\":[\"setosa\",\"virginica\"],\"metadata\":{");
    }
}

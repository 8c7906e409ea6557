package dev.mlserver.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.gateway.testing.TestGateway;
import org.junit.jupiter.api.Test;

class VersionedUrlTest {
    static final String IRIS = "{\"payload\": [5.1, 3.5, 1.4, 0.2]}";

    @Test
    void classifierRoutesMoveUnderTheApiVersion() {
        String yaml = "api:\n  version: v3\n  include_version_in_url: true\n";
        try (TestGateway gateway = TestGateway.start(TestGateway.examplePlugins(), yaml)) {
            JsonNode body = TestGateway.json(gateway.post("/v3/iris/predict", IRIS));
            assertThat(body.get("predictions").get(0).asText()).isEqualTo("setosa");
            assertThat(body.get("metadata").get("api_version").asText()).isEqualTo("v3");
            assertThat(gateway.get("/v3/iris").statusCode()).isEqualTo(200);
            assertThat(TestGateway.json(gateway.get("/v3/iris")).get("routes").get("predict").asText())
                    .isEqualTo("/v3/iris/predict");
            assertThat(gateway.post("/iris/predict", IRIS).statusCode()).isEqualTo(404);
            assertThat(gateway.get("/health/ready").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void withoutTheOptionThereIsNoVersionedRoute() {
        try (TestGateway gateway = TestGateway.start(TestGateway.examplePlugins())) {
            assertThat(gateway.post("/v1/iris/predict", IRIS).statusCode()).isEqualTo(404);
        }
    }
}

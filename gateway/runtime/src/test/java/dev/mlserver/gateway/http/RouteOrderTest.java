package dev.mlserver.gateway.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlserver.gateway.config.ConfigLoader;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Which routes the router tries first, and the table that moving them would break. */
class RouteOrderTest {
    @Test
    void thePredictionRoutesAreMatchedEarlyAndNothingElse() {
        List<String> early = RouteTable.create(ConfigLoader.create(Map.of()).load(Optional.empty())).routes().stream()
                .filter(Route::matchedEarly).map(Route::name).toList();
        assertThat(early).containsExactlyInAnyOrder("predict", "predict_proba", "pinned_predict", "pinned_predict_proba");
    }

    @Test
    void anEarlyRouteThatWouldTakeALiteralRouteOfTheSameMethodIsRefused() {
        Route literal = Route.post("refresh", "/cache/predict", Access.ADMIN);
        Route predict = Route.post("predict", "/:classifier/predict", Access.CLASSIFIER);
        assertThatThrownBy(() -> RouteTable.check(List.of(literal, predict)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("route predict is matched early and would take POST /cache/predict from route refresh");
        // the same literal path with another method, or declared after the prediction route, is no conflict
        RouteTable.check(List.of(Route.get("cache", "/cache/predict", Access.ADMIN), predict));
        RouteTable.check(List.of(predict, literal));
    }

    @Test
    void pathsOverlapWhenEveryLiteralSegmentAgrees() {
        Route predict = Route.post("predict", "/:classifier/predict", Access.CLASSIFIER);
        assertThat(predict.overlaps(Route.post("a", "/admin/predict", Access.ADMIN))).isTrue();
        assertThat(predict.overlaps(Route.post("b", "/admin/plugins/reload", Access.ADMIN))).isFalse();
        assertThat(predict.overlaps(Route.post("c", "/admin/reload", Access.ADMIN))).isFalse();
        assertThat(predict.overlaps(Route.post("d", "/:classifier/explain", Access.CLASSIFIER))).isFalse();
    }
}

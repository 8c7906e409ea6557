package dev.mlserver.examples.spam;

import dev.mlserver.examples.testing.HeldOutEvaluation;
import dev.mlserver.examples.testing.PluginModule;
import org.junit.jupiter.api.Test;

class ModelCardTest {
    @Test
    void cardFiguresAreReproducedOnTheCommittedHeldOutSplit() {
        HeldOutEvaluation.assertCardReproduced(PluginModule.current());
    }
}

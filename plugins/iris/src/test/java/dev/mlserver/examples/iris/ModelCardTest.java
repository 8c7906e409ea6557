package dev.mlserver.examples.iris;

import dev.mlserver.examples.testing.HeldOutEvaluation;
import dev.mlserver.examples.testing.PluginModule;
import org.junit.jupiter.api.Test;

class ModelCardTest {
    @Test
    void cardFiguresAreReproducedOnTheCommittedHeldOutSplit() {
        HeldOutEvaluation.assertCardReproduced(PluginModule.current());
    }
}

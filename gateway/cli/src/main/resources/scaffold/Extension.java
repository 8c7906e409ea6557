package {{package}};

import {{base_package}}.{{base_class}};
import org.pf4j.Extension;

/**
 * The {{name}} classifier: the shared {@link {{base_class}}} over this module's
 * {@code artifacts/model.onnx} and {@code mlserver.yaml}. Override its methods here when
 * {{name}} needs its own input handling.
 */
@Extension
public class {{class}} extends {{base_class}} {
}

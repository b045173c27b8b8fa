package ai.promptline.ml.methods;

import ai.djl.ndarray.NDManager;
import ai.promptline.ml.clip.ClipModel;
import ai.promptline.ml.clip.ClipTokenizer;

/**
 * What a method is built from: the frozen CLIP, its tokenizer, the manager that owns the method's
 * tensors, method options and the run seed (for random initialisation).
 */
public record MethodContext(
    ClipModel clip, ClipTokenizer tokenizer, NDManager manager, MethodOptions options, long seed) {}

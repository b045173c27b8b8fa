package ai.promptline.ml.clip;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Tensors by name from a safetensors file or a PyTorch zip archive ({@code torch.save}, e.g. a
 * Dassl checkpoint {@code model.pth.tar-N}, whose {@code state_dict} entry is read and whose
 * optimiser state is skipped). Used to import learned prompts written by the reference code.
 */
public final class TensorFiles {
  private TensorFiles() {}

  public static Map<String, NDArray> read(Path file, NDManager manager) throws IOException {
    if (!Files.isRegularFile(file)) throw new IOException("tensor file not found: " + file);
    if (TorchArchive.isZip(file)) return TorchArchive.read(file, manager).tensors();
    return Safetensors.read(file, manager);
  }
}

#include "core/io/model_import.h"

#include "core/model/drmm_model.h"
#include "core/train/trainer.h"
#include "core/util/error.h"

namespace drmm {

ModelImport import_model(const std::string& onnx_path, TrainConfig config, const std::string& checkpoint_out,
                         size_t pi_images, const std::function<void(size_t, size_t)>& progress) {
  ModelImport result;
  result.network = import_onnx(onnx_path);
  const ModelSpec& spec = result.network.spec;
  config.preset = onnx_path;
  const Dataset probe = load_dataset(config.dataset, Split::Train);
  if (probe.channels != spec.channels || probe.height != spec.height || probe.width != spec.width ||
      probe.num_classes() != spec.classes)
    throw Error("the network in " + onnx_path + " takes " + std::to_string(spec.channels) + "×" +
                std::to_string(spec.height) + "×" + std::to_string(spec.width) + " images and has " +
                std::to_string(spec.classes) + " classes, but dataset '" + probe.name + "' has " +
                std::to_string(probe.channels) + "×" + std::to_string(probe.height) + "×" + std::to_string(probe.width) +
                " images and " + std::to_string(probe.num_classes()) + " classes");
  Trainer trainer(config, spec, Trainer::SpecFit::exact);
  load_imported_weights(trainer.model(), result.network);
  const Dataset& train = trainer.train_data();
  result.pi_images = pi_images ? std::min(pi_images, train.size()) : train.size();
  measure_latent_frequencies(trainer.model(), train, result.pi_images, progress);
  result.test = trainer.evaluate_test();
  trainer.save(checkpoint_out);
  return result;
}

}  // namespace drmm

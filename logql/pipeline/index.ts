/** The log pipeline of LogQL log queries: compiled once per query, run per line. */
export { compilePipeline, compileStage, reorderStages } from './pipeline.js';
export type { Pipeline, PipelineOptions, PipelineResult } from './pipeline.js';
export type { Stage } from './stage.js';
export {
  LabelsBuilder,
  labelsKey,
  DUPLICATE_SUFFIX,
  ERROR_LABEL,
  ERROR_DETAILS_LABEL,
  JSON_PARSER_ERR,
  LOGFMT_PARSER_ERR,
  LABEL_FILTER_ERR,
  TEMPLATE_FORMAT_ERR,
} from './labels.js';
export type { Label, Labels, LabelCategory, LabelCategories } from './labels.js';
export { LineFilter } from './line-filter.js';
export { JsonParser, JsonExpressionParser, parseJsonPath, compileJson } from './json.js';
export { LogfmtParser, LogfmtExpressionParser, compileLogfmt } from './logfmt.js';
export { LabelFilter, ConversionError, parseFloatValue, parseGoDuration, parseBytesValue } from './label-filter.js';
export { DropLabels, KeepLabels } from './drop-keep.js';
export { Decolorize } from './decolorize.js';
export { RegexpParser } from './regexp.js';
export { PatternParser } from './pattern.js';
export { UnpackParser } from './unpack.js';
export { IpMatcher } from './ip.js';
export { LineFormatter } from './line-format.js';
export { LabelsFormatter } from './label-format.js';

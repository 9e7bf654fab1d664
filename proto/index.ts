/** The push protocol: decoded batch shape, protobuf decode/encode, snappy, label strings. */
export { PushBatchBuilder, entryLine, entryLineBytes, entryMetadata } from './batch.js';
export type { MetadataPairs, PushBatch, PushStream } from './batch.js';
export { decodePushRequest, decodeSnappyPushRequest } from './decode.js';
export type { DecodeOptions } from './decode.js';
export { encodePushRequest, encodeSnappyPushRequest } from './encode.js';
export type { PushEntryInput, PushStreamInput } from './encode.js';
export { PushRequestWriter } from './push-writer.js';
export { PushDecodeError } from './errors.js';
export { LabelStringError, formatLabelString, parseLabelString, quoteGoString } from './labels.js';
export type { LabelPair } from './labels.js';
export { DEFAULT_MAX_DECOMPRESSED_BYTES, SnappyBlockWriter, snappyCompress, snappyMaxCompressedLength, snappyUncompress } from './snappy.js';
export { encodeSnappyWriteRequest, encodeWriteRequest } from './remote-write.js';
export type { RemoteWriteSample, RemoteWriteSeries } from './remote-write.js';

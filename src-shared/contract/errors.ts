import { z } from 'zod';

/**
 * Every code a failed call or command can answer with: stable for programs (API error bodies, CLI exit
 * reasons), one per thing a user can act on. A code not listed here does not type-check where it is thrown.
 */
export const ErrorCode = z.enum([
  // The API and its transports
  'internal',
  'invalid_request',
  'unknown_method',
  'not_found',
  'conflict',
  'unavailable',
  'unauthorized',
  'bad_host',
  'bad_origin',
  'bad_path',
  'bad_range',
  'method',
  'upgrade',
  'too_large',
  'no_renderer',
  'browser_missing',
  // The command line: arguments that do not parse
  'usage',
  // The library file
  'library_cannot_open',
  'library_corrupt',
  'library_disk_full',
  'library_error',
  'library_locked',
  'library_not_database',
  'library_read_only',
  'library_too_new',
  'library_unreadable',
  // Footage
  'ffmpeg_missing',
  'footage_empty',
  'footage_extract_failed',
  'footage_no_images',
  'footage_no_video_stream',
  'footage_not_file',
  'footage_not_image',
  'footage_not_video',
  'footage_unreadable',
  // Models and the engine
  'engine_unavailable',
  'frame_invalid',
  'image_invalid',
  'image_missing',
  'image_too_large',
  'label_invalid',
  'model_changed',
  'model_invalid',
  'model_missing',
  'model_not_embedding',
  'model_outdated',
  'model_output_invalid',
  'score_invalid',
  // Analyses
  'analysis_failed',
  'analysis_outdated',
  'analysis_owned',
  // Teaching and the knowledge base
  'empty_mask',
  'invalid_knowledge_file',
  'invalid_mask',
  'knowledge_model_mismatch',
  'near_existing_class',
  'no_shots',
  'teach_invalid',
  'too_many_classes',
  // Evaluation (eval, fewshot)
  'dataset_invalid',
  'eval_class_unknown',
  'eval_folder_missing',
  'eval_label_invalid',
  'eval_label_missing',
  'eval_no_images',
  'eval_size_mismatch',
  'fewshot_class_invalid',
  'report_invalid',
  // Export
  'export_disk_full',
  'export_folder_invalid',
  'export_folder_missing',
  'export_folder_read_only',
  'export_format_unsupported',
  'export_missing_maps',
  'export_missing_regions',
  'export_name_invalid',
  'export_nothing_flagged',
  'export_target_exists',
  'export_write_failed',
  // Find more like this
  'similar_no_descriptors',
  'similar_no_region',
  // Event clips
  'clip_encode_failed',
  'clip_no_frames',
  'clip_range_invalid',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

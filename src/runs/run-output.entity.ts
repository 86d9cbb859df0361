import { Check, Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { RunEntity } from './run.entity.js';

/** One stored chunk of a run's output, in written order by `seq`; `part` tells the kept head from the kept tail. */
@Entity('cw_run_output')
@Check('cw_run_output_stream_check', `stream IN ('stdout', 'stderr')`)
@Check('cw_run_output_part_check', `part IN ('head', 'tail')`)
export class RunOutputEntity {
  @PrimaryColumn('uuid', { name: 'run_id' }) runId: string;
  @PrimaryColumn('integer') seq: number;
  @ManyToOne(() => RunEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'run_id', foreignKeyConstraintName: 'cw_run_output_run_id_fkey' })
  run?: RunEntity;
  @Column('text') stream: 'stdout' | 'stderr';
  @Column('text') part: 'head' | 'tail';
  @Column('bytea') data: Buffer;
  @Column('timestamptz', { default: () => 'now()' }) at: Date;
}

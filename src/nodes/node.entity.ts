import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One running daemon process, registered with a heartbeat. Table `cw_nodes`. */
@Entity('cw_nodes')
export class NodeEntity {
  @PrimaryColumn('text') id: string;
  @Column('text') hostname: string;
  @Column('integer') pid: number;
  @Column('text') version: string;
  @Column('timestamptz', { name: 'started_at', default: () => 'now()' }) startedAt: Date;
  @Column('timestamptz', { name: 'heartbeat_at', default: () => 'now()' }) heartbeatAt: Date;
  @Column('timestamptz', { name: 'stopped_at', nullable: true }) stoppedAt: Date | null;
}

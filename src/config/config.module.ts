import { DynamicModule, Global, Module } from '@nestjs/common';
import type { CronwardenConfig } from './config.types.js';

/** Injection token for the parsed `CronwardenConfig` (an interface, so it needs a token). */
export const CONFIG = Symbol('CronwardenConfig');

/** Makes the configuration parsed at start injectable everywhere with `@Inject(CONFIG)`. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: CronwardenConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: CONFIG, useValue: config }], exports: [CONFIG] };
  }
}

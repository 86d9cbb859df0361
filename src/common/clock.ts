import { Injectable } from '@nestjs/common';

/** The daemon's wall clock. Tests that need another time replace this class. */
@Injectable()
export class Clock {
  now(): number {
    return Date.now();
  }
}

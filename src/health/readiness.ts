import { Injectable } from '@nestjs/common';

/** Whether this node should get traffic: false from the moment it starts shutting down, so a balancer drains it. */
@Injectable()
export class Readiness {
  draining = false;
}

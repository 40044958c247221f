import { Module } from '@nestjs/common';
import { DiscoveryModule } from '../discovery/discovery.module';
import { AdmissionControl } from './admission-control.service';
import { LoadShedding } from './load-shedding.service';
import { ShedRecorder } from './shed-recorder.service';

/** Admission control and deadline answers for the hook endpoint (see LoadShedding). */
@Module({
  imports: [DiscoveryModule],
  providers: [AdmissionControl, ShedRecorder, LoadShedding],
  exports: [LoadShedding, AdmissionControl, ShedRecorder],
})
export class LoadSheddingModule {}

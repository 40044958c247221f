import { Module } from '@nestjs/common';
import { DiscoveryModule } from '../discovery/discovery.module';
import { AdmissionControl } from './admission-control.service';
import { LoadSheddingInterceptor } from './load-shedding.interceptor';
import { ShedRecorder } from './shed-recorder.service';

/** Admission control and deadline answers for the hook endpoint (see LoadSheddingInterceptor). */
@Module({
  imports: [DiscoveryModule],
  providers: [AdmissionControl, ShedRecorder, LoadSheddingInterceptor],
  exports: [LoadSheddingInterceptor, AdmissionControl, ShedRecorder],
})
export class LoadSheddingModule {}

import { ComingSoon } from '../../components/ComingSoon';

export default function SpeakersPage() {
  return (
    <ComingSoon
      title="Who said what"
      what="Diarization with transcription: a lane per speaker on a time axis."
    />
  );
}

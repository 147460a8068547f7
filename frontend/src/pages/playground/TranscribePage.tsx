import { ComingSoon } from '../../components/ComingSoon';

export default function TranscribePage() {
  return (
    <ComingSoon title="Transcription" what="Upload or record audio and get text, segments, subtitles." />
  );
}

/**
 * What a slot's `kind` (from the admin status) means to a person: a label and an icon. Kinds the dashboard
 * does not know yet (a family added to the gateway later) get their raw name and a neutral icon, so a new
 * slot always has a card.
 */
import ChatIcon from '@mui/icons-material/ChatOutlined';
import ExtensionIcon from '@mui/icons-material/ExtensionOutlined';
import GraphicEqIcon from '@mui/icons-material/GraphicEq';
import LanguageIcon from '@mui/icons-material/Language';
import RecordVoiceOverIcon from '@mui/icons-material/RecordVoiceOverOutlined';
import TranslateIcon from '@mui/icons-material/Translate';
import VolumeUpIcon from '@mui/icons-material/VolumeUpOutlined';
import type { SvgIconComponent } from '@mui/icons-material';

interface KindInfo {
  label: string;
  Icon: SvgIconComponent;
}

const KINDS: Record<string, KindInfo> = {
  llm: { label: 'Language model', Icon: ChatIcon },
  asr: { label: 'Speech recognition', Icon: GraphicEqIcon },
  diarization: { label: 'Diarization', Icon: RecordVoiceOverIcon },
  langid: { label: 'Language identification', Icon: LanguageIcon },
  translation: { label: 'Translation', Icon: TranslateIcon },
  tts: { label: 'Text to speech', Icon: VolumeUpIcon },
};

export function kindInfo(kind: string): KindInfo {
  return KINDS[kind] ?? { label: kind, Icon: ExtensionIcon };
}

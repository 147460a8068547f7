import { ComingSoon } from '../../components/ComingSoon';

export default function ChatPage() {
  return (
    <ComingSoon title="Chat" what="Talk to a served language model: streamed answers, speed and usage." />
  );
}

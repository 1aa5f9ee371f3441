namespace FlowOrleans.Transport.Messages;

/// <summary>Outcome of <see cref="VarInt.TryRead"/>; callers turn the failures into errors with context.</summary>
internal enum VarIntStatus
{
    Done,
    Incomplete,
    Malformed,
    AboveLimit,
}

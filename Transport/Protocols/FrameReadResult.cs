using System.Buffers;

namespace FlowOrleans.Transport.Protocols;

/// <summary>The outcome of <see cref="IFramedConnection.ReadFrameAsync"/>: one frame's payload, or the clean end of the stream.</summary>
public readonly struct FrameReadResult : IEquatable<FrameReadResult>
{
    /// <summary>Creates a result.</summary>
    public FrameReadResult(ReadOnlySequence<byte> payload, bool isCompleted)
    {
        Payload = payload;
        IsCompleted = isCompleted;
    }

    /// <summary>The frame's payload; valid until the next read or disposal. Empty when <see cref="IsCompleted"/>.</summary>
    public ReadOnlySequence<byte> Payload { get; }

    /// <summary>True when the peer closed the connection cleanly between frames; no more frames follow.</summary>
    public bool IsCompleted { get; }

    internal static FrameReadResult Completed => new(ReadOnlySequence<byte>.Empty, isCompleted: true);

    /// <inheritdoc />
    public bool Equals(FrameReadResult other) =>
        IsCompleted == other.IsCompleted &&
        Payload.Start.Equals(other.Payload.Start) &&
        Payload.End.Equals(other.Payload.End);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is FrameReadResult other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Payload.Start, Payload.End, IsCompleted);

    /// <summary>Compares two results by payload position and completion.</summary>
    public static bool operator ==(FrameReadResult left, FrameReadResult right) => left.Equals(right);

    /// <summary>Compares two results by payload position and completion.</summary>
    public static bool operator !=(FrameReadResult left, FrameReadResult right) => !left.Equals(right);
}

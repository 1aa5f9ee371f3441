using System.Security.Cryptography;

namespace FlowOrleans.Tests.Reliability.Soak;

/// <summary>Random payloads for soak exchanges: mostly small messages, some large transfers, some empty, as traffic mixes.</summary>
internal static class SoakPayload
{
    public static byte[] Next(Random random, int maxBytes)
    {
        var size = random.Next(4) switch
        {
            0 => random.Next(0, 64),
            1 => random.Next(64, 4096),
            _ => random.Next(4096, maxBytes + 1),
        };
        var data = new byte[size];
        random.NextBytes(data);
        return data;
    }

    /// <summary>Fails the exchange unless <paramref name="received"/> is exactly <paramref name="sent"/>.</summary>
    public static void Check(byte[] sent, byte[] received)
    {
        if (received.Length != sent.Length || !SHA256.HashData(received).AsSpan().SequenceEqual(SHA256.HashData(sent)))
        {
            throw new InvalidDataException($"sent {sent.Length} B, got {received.Length} B back with a different SHA-256");
        }
    }
}

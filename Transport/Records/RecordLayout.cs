namespace FlowOrleans.Transport.Records;

/// <summary>
/// Sizes of the encrypted records that carry messages after the handshake: each frame is one record,
/// <c>ciphertext || tag</c>, and its plaintext is a run of whole messages.
/// </summary>
internal static class RecordLayout
{
    /// <summary>AEAD tag length for every suite.</summary>
    public const int TagSize = 16;

    /// <summary>Largest plaintext of one record: a full 64 KiB data chunk plus its header and control messages.</summary>
    public const int MaxPlaintext = 64 * 1024 + 1024;

    /// <summary>Largest data payload one message can carry (what <c>Mtu</c> and unfragmented messages are held to).</summary>
    public const int MaxPayload = 64 * 1024;

    /// <summary>Largest frame a peer may send after the handshake.</summary>
    public const int MaxFrame = MaxPlaintext + TagSize;

    /// <summary>A record with less room than this left is sealed rather than filled with a sliver of data.</summary>
    public const int MinUsefulRoom = 256;
}

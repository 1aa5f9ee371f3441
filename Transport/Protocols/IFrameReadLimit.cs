namespace FlowOrleans.Transport.Protocols;

/// <summary>
/// A framed connection whose reads can refuse frames smaller than its <see cref="IFramedConnection.MaxFrameSize"/>.
/// The connection layer lowers the limit to the handshake's largest frame until the peer has authenticated, so a peer
/// nobody knows yet cannot make it buffer a frame of up to <see cref="IFramedConnection.MaxFrameSize"/> (about 1 MiB by
/// default), and to the largest record afterwards. A frame above the limit is refused as soon as its length is known,
/// before any of it is buffered, exactly like one above <see cref="IFramedConnection.MaxFrameSize"/>.
/// </summary>
internal interface IFrameReadLimit
{
    /// <summary>
    /// The largest frame a read accepts now, never above <see cref="IFramedConnection.MaxFrameSize"/> (a larger value
    /// is held to it). Changed only between reads, by the connection's single reader.
    /// </summary>
    int ReadLimit { get; set; }
}
